"""`recall export` and `recall import`: a project's memory moved between stores as JSON Lines
(``curation.records``), idempotently: what the target holds already (the same session, the
same decision or snippet by its content hash, the same delta) is left as it is, and what
the target forgot is not brought back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DBSession

from contextrecall.crypto import KeyRing, associated_data, load_key_ring
from contextrecall.curation import records
from contextrecall.curation.forgetting import refresh
from contextrecall.db import session_scope
from contextrecall.dialect import insert_ignoring_duplicates
from contextrecall.models import (
    ContextSnippet,
    ConversationContext,
    DecisionLog,
    ForgottenMemory,
    Project,
    ProjectState,
    SavedDelta,
    Session,
    new_uuid,
)
from contextrecall.recall.loading import find_project, parsed_json
from contextrecall.settings import Settings
from contextrecall.store import memory_rows, parents, tombstones

MODELS = {
    "context": ConversationContext,
    "decision": DecisionLog,
    "snippet": ContextSnippet,
}


def _row(obj: Any) -> dict[str, Any]:
    return {c.name: getattr(obj, c.key) for c in obj.__table__.columns}


def export_lines(settings: Settings, project: str, deltas: bool = False) -> Iterator[str]:
    """The project's memory as lines of JSON (no newline at their end)."""
    ring = load_key_ring(settings) if deltas else None
    with session_scope(settings) as db:
        found = find_project(db, project)
        if found is None:
            raise ValueError(f"no project named {project!r}")
        about = {
            "name": found.name,
            "identity": found.identity,
            "git_remote": found.git_remote,
            "root_path": found.root_path,
        }
        yield memory_rows.as_json(records.header(about, datetime.now(UTC), deltas))
        sessions = {s.id: s for s in db.scalars(_of(Session, found.id, Session.created_at))}
        for session in sessions.values():
            yield memory_rows.as_json(records.record("session", _row(session)))

        def named(session_id: str | None) -> str | None:
            session = sessions.get(session_id or "")
            return session.external_id if session else None

        for kind, model in MODELS.items():
            for obj in db.scalars(_of(model, found.id, model.created_at)):
                yield memory_rows.as_json(records.record(kind, _row(obj), named(obj.session_id)))
        for state in db.scalars(select(ProjectState).where(ProjectState.project_id == found.id)):
            yield memory_rows.as_json(
                records.record("state", _row(state), named(state.last_session_id))
            )
        for mark in db.scalars(_of(ForgottenMemory, found.id, ForgottenMemory.created_at)):
            yield memory_rows.as_json(records.record("forgotten", _row(mark)))
        if ring is not None:
            for delta in db.scalars(_of(SavedDelta, found.id, SavedDelta.start_offset)):
                bound = associated_data(delta.project_id, delta.session_id, "delta")
                text = ring.decrypt(delta.payload, bound)
                yield memory_rows.as_json(
                    records.delta_record(_row(delta), named(delta.session_id), text)
                )


def _of(model: type, project_id: str, order: Any) -> Any:
    return select(model).where(model.project_id == project_id).order_by(order, model.id)


def read_records(lines: Iterable[str]) -> tuple[dict[str, Any], dict[str, list[dict]]]:
    """The header and the records by type; BadRecord at the first bad line."""
    head: dict[str, Any] | None = None
    found: dict[str, list[dict]] = {kind: [] for kind in records.TYPES}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parsed = records.parse_line(line, 1 if head is None else number)
        if head is None:
            head = parsed
        else:
            found[parsed["type"]].append(parsed)
    if head is None:
        raise records.BadRecord("the export is empty")
    return head, found


def import_lines(settings: Settings, lines: Iterable[str]) -> dict[str, Any]:
    """Load an export into this store; what was added, by type."""
    head, found = read_records(lines)
    ring = load_key_ring(settings)
    with session_scope(settings) as db:
        about = head["project"]
        project = parents.resolve_project(
            db,
            str(about["identity"]),
            name=about.get("name"),
            git_remote=about.get("git_remote"),
            root_path=about.get("root_path"),
        )
        db.flush()
        try:
            added = _load(db, ring, project, found)
        except (KeyError, TypeError, ValueError) as exc:  # nothing is kept: rolled back
            raise records.BadRecord(
                f"a record lacks a field or holds one of the wrong type ({exc!s:.80})"
            ) from exc
        project_id, name = project.id, project.name
    refresh(settings, {project_id})
    return {"project": name, "added": added}


def _held(db: DBSession, model: type, rows: list[dict[str, Any]]) -> set[str]:
    """The ids of ``rows`` the table holds."""
    ids = sorted({row["id"] for row in rows})
    held: set[str] = set()
    for start in range(0, len(ids), 500):
        held |= set(db.scalars(select(model.id).where(model.id.in_(ids[start : start + 500]))))
    return held


def _columns(model: type) -> set[str]:
    return {c.name for c in model.__table__.columns}


def _load(
    db: DBSession, ring: KeyRing, project: Project, found: dict[str, list[dict]]
) -> dict[str, int]:
    added: dict[str, int] = {}
    held = db.scalar(
        select(func.count())
        .select_from(ForgottenMemory)
        .where(ForgottenMemory.project_id == project.id)
    )
    marks = [
        {**records.row_values(r, _columns(ForgottenMemory)), "project_id": project.id}
        for r in found["forgotten"]
        if isinstance(r.get("content_hash"), str) and r.get("kind") in tombstones.KINDS
    ]
    for mark in marks:
        mark.setdefault("id", new_uuid())
    marks = [m for m in marks if m["id"] not in _held(db, ForgottenMemory, marks)]
    insert_ignoring_duplicates(
        db, ForgottenMemory.__table__, marks, key=("project_id", "kind", "content_hash")
    )
    added["forgotten"] = (
        db.scalar(
            select(func.count())
            .select_from(ForgottenMemory)
            .where(ForgottenMemory.project_id == project.id)
        )
        - held
    )
    forgotten = tombstones.tombstones(db, project.id)

    sessions = _load_sessions(db, project, found["session"], forgotten, added)
    for kind, model in MODELS.items():
        rows = []
        for record in found[kind]:
            values = records.row_values(record, _columns(model))
            values["project_id"] = project.id
            if "session" in record:
                values["session_id"] = sessions.get(record["session"] or "")
                if values["session_id"] is None:
                    continue  # its session was forgotten here
            if kind == "decision":
                values["content_hash"] = values.get("content_hash") or memory_rows.content_hash(
                    values["decision_text"]
                )
                if values["content_hash"] in forgotten.decisions:
                    continue
            if kind == "snippet" and values.get("content_hash") in forgotten.snippets:
                continue
            rows.append(values)
        rows = [row for row in rows if row["id"] not in _held(db, model, rows)]
        key = (
            ("session_id", "context_type") if kind == "context" else ("project_id", "content_hash")
        )
        insert_ignoring_duplicates(db, model.__table__, rows, key=key)
        inserted = _held(db, model, rows)
        column = {"context": "context_id", "decision": "decision_id", "snippet": "snippet_id"}[kind]
        tags = {row["id"]: _tags(row.get("tags")) for row in rows if row["id"] in inserted}
        memory_rows.tag_new_rows(db, project.id, model, column, tags, inserted)
        if kind == "snippet":
            memory_rows.count_terms(db, project.id, [r for r in rows if r["id"] in inserted])
        added[kind] = len(inserted)
    added["state"] = _load_state(db, project, found["state"], sessions)
    added["delta"] = _load_deltas(db, ring, project, found["delta"], sessions)
    return added


def _tags(value: Any) -> list[str]:
    tags = parsed_json(value if isinstance(value, str) else None, [])
    return [str(tag) for tag in tags] if isinstance(tags, list) else []


def _load_sessions(
    db: DBSession,
    project: Project,
    rows: list[dict],
    forgotten: tombstones.Tombstones,
    added: dict[str, int],
) -> dict[str, str]:
    """The project's sessions by the agent's id, those of the export added."""
    held = {
        s.external_id: s.id
        for s in db.scalars(select(Session).where(Session.project_id == project.id))
    }
    count = 0
    columns = _columns(Session)
    for record in rows:
        external = str(record.get("external_id") or "")[:255]
        if not external or external in held:
            continue
        if tombstones.session_mark(external) in forgotten.sessions:
            continue
        values = records.row_values(record, columns)
        if db.get(Session, values["id"]) is not None:
            values["id"] = new_uuid()
        values["project_id"] = project.id
        db.add(Session(**values))
        held[external] = values["id"]
        count += 1
    db.flush()
    added["session"] = count
    return held


def _load_state(db: DBSession, project: Project, rows: list[dict], sessions: dict[str, str]) -> int:
    """The project's state from the export when the target has none, or an older one."""
    if not rows:
        return 0
    record = rows[-1]
    values = records.row_values(record, _columns(ProjectState))
    values["last_session_id"] = sessions.get(record.get("session") or "")
    state = db.scalars(select(ProjectState).where(ProjectState.project_id == project.id)).first()
    if state is not None:
        values.pop("id", None)
        # (to the second: MariaDB's DATETIME keeps no fraction)
        newer = values.get("updated_at")
        if state.updated_at and newer and state.updated_at >= newer.replace(microsecond=0):
            return 0
    else:
        if not values.get("id") or db.get(ProjectState, values["id"]) is not None:
            values["id"] = new_uuid()
        state = ProjectState(project_id=project.id)
        db.add(state)
    for key, value in values.items():
        setattr(state, key, value)
    return 1


def _load_deltas(
    db: DBSession, ring: KeyRing, project: Project, rows: list[dict], sessions: dict[str, str]
) -> int:
    """The export's deltas, sealed with this store's newest key."""
    wanted = []
    columns = _columns(SavedDelta)
    for record in rows:
        session_id = sessions.get(record.get("session") or "")
        if session_id is None:
            continue
        values = records.row_values(record, columns)
        values.update(project_id=project.id, session_id=session_id, key_id=ring.key_ids[0])
        bound = associated_data(project.id, session_id, "delta")
        values["payload"] = ring.encrypt(records.delta_text(record), bound)
        wanted.append(values)
    wanted = [row for row in wanted if row["id"] not in _held(db, SavedDelta, wanted)]
    insert_ignoring_duplicates(db, SavedDelta.__table__, wanted, key=("session_id", "delta_hash"))
    return len(_held(db, SavedDelta, wanted))
