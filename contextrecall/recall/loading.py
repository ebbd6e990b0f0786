"""Reading a project's memory out of the database as rankable items (one project only)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, text, true, tuple_
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as DBSession

from contextrecall.dialect import is_mariadb
from contextrecall.ids import SUBAGENT_MARK
from contextrecall.models import (
    ContextSnippet,
    ConversationContext,
    DecisionLog,
    Project,
    ProjectState,
    Session,
    TermCount,
)
from contextrecall.recall.answer import DECISION, SESSION, SNIPPET, UNQUERIED
from contextrecall.recall.ranking import (
    NEIGHBOUR_REACH,
    Item,
    found_by,
    neighbour_keys,
    pick,
)
from contextrecall.terms import TOTAL_TERM

# The item builders below read a row of their table: a plain row or an ORM object.


def parsed_json(value: str | None, default: Any) -> Any:
    """A JSON column's value, or ``default`` when it is empty or not JSON."""
    try:
        return json.loads(value) if value else default
    except ValueError:
        return default


def find_project(db: DBSession, name: str) -> Project | None:
    """A project by the name a user types (or its identity)."""
    return db.scalars(
        select(Project).where((Project.name == name) | (Project.identity == name))
    ).first()


def _context_item(context: Any, external_id: str | None) -> Item:
    return Item(
        "session",
        context.id,
        context.dense_summary or "",
        title=context.title,
        tags=parsed_json(context.tags, []),
        relevance=context.relevance_score,
        created_at=context.updated_at,
        session=external_id,
    )


def _decision_body(row: Any) -> str:
    body = row.decision_text
    if row.rationale and row.rationale not in body:
        body += f" (because {row.rationale})"
    return body


def _decision_item(row: Any) -> Item:
    return Item(
        "decision",
        row.id,
        _decision_body(row),
        title="Decision",
        tags=parsed_json(row.tags, []),
        created_at=row.created_at,
        relevance=1.0,
    )


def _snippet_item(row: Any) -> Item:
    extra = parsed_json(row.structured_data, {})
    return Item(
        "fact" if row.category == "fact" else "snippet",
        row.id,
        row.dense_content,
        title=row.title,
        tags=parsed_json(row.tags, []),
        relevance=row.relevance_score,
        usage=row.usage_count,
        created_at=row.updated_at,
        speaker=extra.get("speaker"),
        when=extra.get("occurred_at"),
        session=extra.get("session"),
        part=extra.get("part"),
        position=extra.get("position"),
    )


def _found_item(kind: str, row: Any) -> Item:
    """An item with only what ``ranking.found_by`` and ``ranking.pick`` read (its words, its
    time, its id), from a row of ``FOUND_COLUMNS``."""
    if kind == SESSION:
        return Item(kind, row.id, row.dense_summary or "", title=row.title, created_at=row.time)
    if kind == DECISION:
        return Item(kind, row.id, _decision_body(row), title="Decision", created_at=row.time)
    extra = row.structured_data
    speaker = parsed_json(extra, {}).get("speaker") if extra and "speaker" in extra else None
    return Item(
        "fact" if row.category == "fact" else "snippet",
        row.id,
        row.dense_content,
        title=row.title,
        created_at=row.time,
        speaker=speaker,
    )


def _prefixes(term: str) -> str:
    """A stem as boolean-mode prefixes: InnoDB does not stem, so "deploy*" is what finds
    "deploys" and "deployed". A Snowball stem is a prefix of its words but for a few endings:
    "citi" (from "city") also needs "city*", "use" (from "using") "us*", and "possibl" (from
    "possibility") "possib*"."""
    if term.endswith("i"):
        return f"{term}* {term[:-1]}y*"
    if term.endswith(("e", "bl")):
        return f"{term}* {term[:-1]}*"
    return f"{term}*"


class _Table:
    """How one kind of memory is stored: its model, its text index and columns, its time."""

    def __init__(self, model: type, index: str, columns: tuple[str, ...], time: str) -> None:
        self.model, self.index, self.columns = model, index, columns
        self.time = getattr(model, time)
        self.found_columns = (
            model.id,
            self.time.label("time"),
            *(getattr(model, name) for name in FOUND_COLUMNS[model.__tablename__]),
        )


# What ``_found_item`` reads of each table, besides the id and the time.
FOUND_COLUMNS = {
    "conversation_contexts": ("title", "dense_summary"),
    "decision_logs": ("decision_text", "rationale"),
    "context_snippets": ("title", "dense_content", "category", "structured_data"),
}
# The text indexes: a FULLTEXT index on MariaDB, an FTS5 table of the same name on SQLite
# (migrations 0003, 0008, 0009).
TABLES = {
    SESSION: _Table(
        ConversationContext,
        "ft_conversation_contexts_text",
        ("title", "dense_summary"),
        "updated_at",
    ),
    DECISION: _Table(
        DecisionLog,
        "ft_decision_logs_text",
        ("decision_text", "rationale", "alternatives_considered"),
        "created_at",
    ),
    SNIPPET: _Table(
        ContextSnippet, "ft_context_snippets_text", ("title", "dense_content"), "updated_at"
    ),
}
MATCHED_ROWS = 2000  # rows a text index hands over for one kind and query, best first


class DatabaseSource:
    """One project's memory read from the database (the system of record), as an
    ``answer.Source``."""

    def __init__(self, db: DBSession, project_id: str) -> None:
        self.db, self.project_id = db, project_id

    def frequencies(self, wanted: Sequence[str]) -> dict[str, int]:
        """Document counts of the ``wanted`` terms and their total: one key lookup."""
        rows = self.db.execute(
            select(TermCount.term, TermCount.documents).where(
                TermCount.project_id == self.project_id,
                TermCount.term.in_([TOTAL_TERM, *wanted]),
            )
        ).all()
        return {term: documents for term, documents in rows}

    def items(
        self, kind: str, where: Any, order: Any = None, limit: int | None = None
    ) -> list[Item]:
        """The project's items of ``kind`` meeting ``where``, in ``order``, at most ``limit``."""
        table = TABLES[kind]
        model = table.model
        # plain rows, not ORM objects: ranking reads each once
        statement = select(*model.__table__.columns)
        if kind == SESSION:
            statement = statement.add_columns(Session.external_id).outerjoin(
                Session, Session.id == model.session_id
            )
        statement = statement.where(model.project_id == self.project_id, where)
        if order is not None:
            statement = statement.order_by(*order)
        if limit is not None:
            statement = statement.limit(limit)
        rows = self.db.execute(statement)
        if kind == SESSION:
            return [_context_item(row, row.external_id) for row in rows]
        make = _decision_item if kind == DECISION else _snippet_item
        return [make(row) for row in rows]

    def pinned(self, count: int) -> list[Item]:
        """The project's pinned memories of every kind, the newest first, at most ``count``."""
        found = []
        for kind, table in TABLES.items():
            order = (table.time.desc(), table.model.id.desc())
            found += self.items(kind, table.model.pinned == true(), order, count)
        found.sort(key=lambda item: (item.created_at is not None, item.created_at), reverse=True)
        return found[:count]

    def latest(self, kind: str, count: int) -> list[Item]:
        table = TABLES[kind]
        return self.items(kind, true(), (table.time.desc(), table.model.id.desc()), count)

    def matching(
        self, kind: str, words: Sequence[str], frequencies: dict[str, int], wanted: int
    ) -> list[Item]:
        """The text index finds rows with the words as prefixes (its parser does not stem);
        those really holding them are picked by ``ranking.pick``, as the index picks."""
        table = TABLES[kind]
        ids = self._matching_ids(kind, words)
        found = []
        for start in range(0, len(ids), 500):
            found += self.db.execute(
                select(*table.found_columns).where(
                    table.model.project_id == self.project_id,
                    table.model.id.in_(ids[start : start + 500]),
                )
            )
        postings: dict[str, list[Item]] = {word: [] for word in words}
        for row in found:
            item = _found_item(kind, row)
            held = found_by(item)
            for word in words:
                if word in held:
                    postings[word].append(item)
        picked = [item.id for item in pick(postings, frequencies, wanted)]
        whole = {}
        for start in range(0, len(picked), 500):
            chunk = picked[start : start + 500]
            whole.update((i.id, i) for i in self.items(kind, table.model.id.in_(chunk)))
        return [whole[id] for id in picked if id in whole]

    def _matching_ids(self, kind: str, words: Sequence[str]) -> list[str]:
        table = TABLES[kind]
        model = table.model
        if is_mariadb(self.db):
            from sqlalchemy.dialects.mysql import match

            relevance = match(
                *(getattr(model, c) for c in table.columns),
                against=" ".join(map(_prefixes, words)),
            ).in_boolean_mode()
            return list(
                self.db.scalars(
                    select(model.id)
                    .where(model.project_id == self.project_id, relevance > 0)
                    .order_by(relevance.desc())
                    .limit(MATCHED_ROWS)
                )
            )
        found = _fts5_ids(
            self.db, model.__tablename__, table.index, self.project_id, words, MATCHED_ROWS
        )
        if found is not None:
            return found
        # no text index (a database not migrated yet): the newest rows are scanned
        return [item.id for item in self.latest(kind, UNQUERIED[kind])]

    def neighbours(self, items: Sequence[Item], reach: int = NEIGHBOUR_REACH) -> list[Item]:
        """The chat turns up to ``reach`` places around the turns among ``items`` that are
        not among them already: ranking reads a turn with its neighbours, and an answer that
        shares no word with the query is found through the question before it."""
        keys = sorted(
            neighbour_keys(items, reach), key=lambda key: (str(key[0]), key[1] or 0, key[2])
        )
        found = []
        for start in range(0, len(keys), 500):
            found += self.items(
                SNIPPET,
                tuple_(
                    ContextSnippet.turn_session,
                    ContextSnippet.turn_part,
                    ContextSnippet.turn_position,
                ).in_(keys[start : start + 500]),
            )
        return found


def _fts5_ids(
    db: DBSession, table: str, index: str, project_id: str, words: Sequence[str], limit: int
) -> list[str] | None:
    """On SQLite, ids of up to ``limit`` rows of ``table`` in the project with any of
    ``words`` (as prefixes), best first by the FTS5 table ``index``; None elsewhere, or when
    the database has no such table yet (not migrated)."""
    if db.get_bind().dialect.name != "sqlite":
        return None
    wanted = " OR ".join(prefix for word in words for prefix in _prefixes(word).split())
    try:
        found = db.execute(
            text(  # the table and index names are constants of this module
                f"SELECT t.id FROM {table} t JOIN {index} f ON f.rowid = t.rowid "
                f"WHERE {index} MATCH :wanted AND t.project_id = :project "
                "ORDER BY f.rank LIMIT :n"
            ),
            {"wanted": wanted, "project": project_id, "n": limit},
        )
        return list(found.scalars())
    except OperationalError:
        return None


# A session of the person's own, not a subagent's (``ids.SUBAGENT_MARK``): a subagent's
# work is part of its parent's, and a list of sessions would be full of them.
_OWN_SESSION = or_(
    Session.external_id.is_(None), Session.external_id.not_like(f"%{SUBAGENT_MARK}%")
)


def latest_sessions(db: DBSession, project_id: str, count: int) -> list[Item]:
    """The project's ``count`` newest sessions, subagents' left out (``_OWN_SESSION``)."""
    table = TABLES[SESSION]
    order = (table.time.desc(), table.model.id.desc())
    return DatabaseSource(db, project_id).items(SESSION, _OWN_SESSION, order, count)


def latest_session(db: DBSession, project_id: str) -> dict[str, Any] | None:
    """Where the project's latest session left off: its title, time and recorded state
    (branch, commits, commands and their outcomes, last request, state summary). A
    subagent's session is its parent's work: the latest of the person's own, when there
    is one."""
    newest = (
        select(ConversationContext)
        .outerjoin(Session, Session.id == ConversationContext.session_id)
        .where(ConversationContext.project_id == project_id)
        .order_by(ConversationContext.updated_at.desc())
        .limit(1)
    )
    row = db.scalars(newest.where(_OWN_SESSION)).first() or db.scalars(newest).first()
    if row is None:
        return None
    return {"title": row.title, "at": row.updated_at, **parsed_json(row.current_state, {})}


def latest_pull_request(
    db: DBSession, project_id: str, branch: str | None, sessions: int = 10
) -> tuple[str, datetime] | None:
    """The pull request the project's newest ``sessions`` on ``branch`` named last, and when
    that session ended: a branch's pull request outlives the session that opened it."""
    rows = db.execute(
        select(ConversationContext.current_state, ConversationContext.updated_at)
        .where(ConversationContext.project_id == project_id)
        .order_by(ConversationContext.updated_at.desc())
        .limit(sessions)
    )
    for state, at in rows:
        recorded = parsed_json(state, {})
        named = recorded.get("pull_requests") or []
        if named and recorded.get("branch") == branch:
            return str(named[-1]), at
    return None


def latest_snippets(
    db: DBSession, project_id: str, category: str, limit: int, starting: str = ""
) -> list[Item]:
    """The project's newest snippets of ``category`` (whose text starts with ``starting``)."""
    statement = select(ContextSnippet).where(
        ContextSnippet.project_id == project_id, ContextSnippet.category == category
    )
    if starting:
        statement = statement.where(ContextSnippet.dense_content.startswith(starting))
    statement = statement.order_by(ContextSnippet.updated_at.desc()).limit(limit)
    return [_snippet_item(row) for row in db.scalars(statement)]


def project_state(db: DBSession, project_id: str) -> dict[str, Any] | None:
    state = db.scalars(select(ProjectState).where(ProjectState.project_id == project_id)).first()
    if state is None:
        return None
    return {
        "phase": state.current_phase,
        "progress": state.progress_percentage,
        "blockers": parsed_json(state.blockers, []),
        "next_actions": parsed_json(state.next_actions, []),
        "key_files": parsed_json(state.key_files, []),
        "decisions": parsed_json(state.important_decisions, []),
        "summary": state.context_summary,
        "updated_at": state.updated_at,
    }
