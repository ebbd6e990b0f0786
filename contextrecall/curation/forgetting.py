"""Forget and pin, as the CLI, the MCP server and the memory browser ask for them: the
database change (``store.forget``), then every cached read and the recall index of each
project it touched, so that the next search and the next session start already see it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from contextrecall.db import session_scope
from contextrecall.models import Project, Session
from contextrecall.recall.loading import find_project
from contextrecall.settings import Settings
from contextrecall.store import forget as store

MAX_IDS = 500
SEARCH_LIMIT = 50  # memories a forget-by-search takes at most (the preview shows them all)


@dataclass(frozen=True)
class Scope:
    """The project an action may touch: None lets ids of any project through (the CLI
    without --project); the MCP server and the browser always name theirs."""

    project: str | None = None  # a name or identity


def _project_id(db: Any, scope: Scope) -> str | None:
    if scope.project is None:
        return None
    row = find_project(db, scope.project)
    if row is None:
        raise ValueError(f"no project named {scope.project!r}")
    return row.id


def _ids(ids: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
    if not wanted:
        raise ValueError("no memory id given")
    if len(wanted) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS} ids at a time")
    return wanted


def refresh(settings: Settings, project_ids: set[str]) -> None:
    """After memory changed in these projects: cached reads go stale and each recall index
    is built again from the database (the old one is not read meanwhile: it is stale)."""
    from contextrecall.generation import bump_generation
    from contextrecall.recall.index import keeper

    if not project_ids:
        return
    with session_scope(settings) as db:
        projects = list(db.scalars(select(Project).where(Project.id.in_(sorted(project_ids)))))
    for project in projects:
        bump_generation(settings, project.identity)
        keeper.rebuild(settings, project)


def _memories(db: Any, ids: list[str], scope: Scope) -> tuple[list[store.Memory], list[str]]:
    """The memories with ``ids`` in the scope, and the ids not found there."""
    project_id = _project_id(db, scope)
    found = [m for m in store.find(db, ids) if project_id is None or m.project_id == project_id]
    known = {m.id for m in found}
    return found, [i for i in ids if i not in known]


def describe(memory: store.Memory) -> dict[str, Any]:
    return {
        "kind": memory.kind,
        "id": memory.id,
        "title": memory.title,
        "text": memory.text[:300],
        "pinned": memory.pinned,
    }


def forget_ids(settings: Settings, ids: Sequence[str], scope: Scope = Scope()) -> dict[str, Any]:
    """Forget the memories with these ids (a session summary: its whole session)."""
    from contextrecall.crypto import load_key_ring

    wanted = _ids(ids)
    ring = load_key_ring(settings)
    with session_scope(settings) as db:
        found, missing = _memories(db, wanted, scope)
        done = store.forget(db, ring, found)
    refresh(settings, done.projects)
    return {
        "forgotten": [describe(m) for m in found],
        "not_found": missing,
        "removed": done.counts(),
    }


def forget_session(settings: Settings, session: str, scope: Scope = Scope()) -> dict[str, Any]:
    """Forget a session, named by the agent's id for it or by ours."""
    wanted = session.strip()
    if not wanted:
        raise ValueError("no session given")
    with session_scope(settings) as db:
        project_id = _project_id(db, scope)
        statement = select(Session).where(
            (Session.external_id == wanted[:255]) | (Session.id == wanted[:36])
        )
        if project_id is not None:
            statement = statement.where(Session.project_id == project_id)
        rows = list(db.scalars(statement))
        if not rows:
            raise ValueError(
                f"no session {wanted!r}" + (" in this project" if scope.project else "")
            )
        if len(rows) > 1:
            raise ValueError(f"session {wanted!r} is in several projects: name one with --project")
        done = store.Forgotten()
        store.forget_session(db, rows[0], done)
    refresh(settings, done.projects)
    return {"session": wanted, "removed": done.counts()}


def matches(settings: Settings, project: str, query: str, limit: int = SEARCH_LIMIT) -> list[dict]:
    """What a search for ``query`` finds in ``project``, ranked as recall ranks them: the
    preview of a forget by search. Its decisions and snippets would be forgotten; a session
    summary it finds is not (that would take its whole session) but written again without
    their text (``forgotten`` False)."""
    from contextrecall.recall.service import MAX_BUDGET, search

    if not query.strip():
        raise ValueError("forgetting by search needs a query")
    result = search(settings, project, query, budget=MAX_BUDGET, limit=limit, used=False)
    return [
        {
            "kind": item["kind"],
            "id": item["id"],
            "text": item["text"],
            "forgotten": item["kind"] != store.SESSION,
        }
        for item in result["items"]
    ]


def forget_matches(
    settings: Settings, project: str, query: str, limit: int = SEARCH_LIMIT
) -> dict[str, Any]:
    """Forget the decisions and snippets ``matches`` lists (their text leaves the session
    summaries too)."""
    found = [m for m in matches(settings, project, query, limit) if m["forgotten"]]
    if not found:
        return {"query": query, "forgotten": [], "not_found": [], "removed": {}}
    report = forget_ids(settings, [m["id"] for m in found], Scope(project))
    return {"query": query, **report}


def pin_ids(
    settings: Settings, ids: Sequence[str], pinned: bool = True, scope: Scope = Scope()
) -> dict[str, Any]:
    """Pin (or unpin) the memories with these ids."""
    wanted = _ids(ids)
    with session_scope(settings) as db:
        found, missing = _memories(db, wanted, scope)
        store.pin(db, [m.id for m in found], pinned)
    refresh(settings, {m.project_id for m in found if m.project_id})
    return {
        "pinned" if pinned else "unpinned": [describe(m) for m in found],
        "not_found": missing,
    }
