"""Forgetting and pinning memory in the database, and the tombstones that keep forgotten
memory from coming back.

Forgetting a session removes its summary, decisions, snippets (those no other session holds),
stored deltas and, when it was the latest, the project state it wrote; a tombstone of its id
makes any later save of it (the hook going on, a re-sent job) store nothing. Forgetting a
decision or a snippet removes its row, takes its text out of the stored deltas it came from
(``store.scrub``) and writes its session's summary again from what is left; tombstones of
its content hash and of the lines it was taken from keep a re-save from storing it again.
Plain functions in the caller's transaction, like ``memory_rows``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session as DBSession

from contextrecall.crypto import KeyRing, associated_data
from contextrecall.models import (
    ContextSnippet,
    ConversationContext,
    DecisionLog,
    Project,
    ProjectState,
    SavedDelta,
    Session,
)
from contextrecall.store import memory_rows, scrub
from contextrecall.store.overlap import settled
from contextrecall.store.save_job import compress_bytes
from contextrecall.store.tombstones import (
    DECISION,
    LINE,
    SESSION,
    SNIPPET,
    bury,
    hold_project,
    session_mark,
    tombstones,
)

KINDS = {  # a memory's kind: its table
    SESSION: ConversationContext,
    DECISION: DecisionLog,
    SNIPPET: ContextSnippet,
}


@dataclass(frozen=True)
class Memory:
    """One stored memory as forget and pin see it."""

    kind: str  # SESSION (a session's summary), DECISION or SNIPPET
    id: str
    project_id: str | None
    session_id: str | None
    title: str
    text: str
    pinned: bool


def find(db: DBSession, ids: Sequence[str]) -> list[Memory]:
    """The memories with these ids, of any kind (unknown ids are left out)."""
    wanted = sorted({i.strip() for i in ids if i.strip()})
    if not wanted:
        return []
    found = [
        Memory(SESSION, r.id, r.project_id, r.session_id, r.title, r.dense_summary or "", r.pinned)
        for r in db.scalars(select(ConversationContext).where(ConversationContext.id.in_(wanted)))
    ]
    found += [
        Memory(DECISION, r.id, r.project_id, r.session_id, "Decision", r.decision_text, r.pinned)
        for r in db.scalars(select(DecisionLog).where(DecisionLog.id.in_(wanted)))
    ]
    found += [
        Memory(SNIPPET, r.id, r.project_id, r.session_id, r.title, r.dense_content, r.pinned)
        for r in db.scalars(select(ContextSnippet).where(ContextSnippet.id.in_(wanted)))
    ]
    return found


@dataclass
class Forgotten:
    """What a forget removed, and the projects whose index and cache must follow."""

    sessions: int = 0
    decisions: int = 0
    snippets: int = 0
    deltas_removed: int = 0
    deltas_rewritten: int = 0
    copies: int = 0  # other memories that quoted it, rewritten without it
    projects: set[str] = field(default_factory=set)  # ids

    def counts(self) -> dict[str, int]:
        return {
            "sessions": self.sessions,
            "decisions": self.decisions,
            "snippets": self.snippets,
            "deltas_removed": self.deltas_removed,
            "deltas_rewritten": self.deltas_rewritten,
            "copies_rewritten": self.copies,
        }


def forget(db: DBSession, ring: KeyRing, memories: Sequence[Memory]) -> Forgotten:
    """Forget ``memories``: a session's summary stands for its whole session."""
    for project_id in sorted({m.project_id for m in memories if m.project_id}):
        hold_project(db, project_id, forgetting=True)
    # as they are now that no save of their projects can commit before this forget does
    memories = find(db, [m.id for m in memories])
    done = Forgotten()
    sessions = {m.session_id for m in memories if m.kind == SESSION and m.session_id}
    for session in db.scalars(select(Session).where(Session.id.in_(sorted(sessions)))):
        forget_session(db, session, done)
    # a summary whose session is already gone: the row alone
    orphans = [m.id for m in memories if m.kind == SESSION and not m.session_id]
    if orphans:
        db.execute(delete(ConversationContext).where(ConversationContext.id.in_(orphans)))
        done.sessions += len(orphans)
    items = [m for m in memories if m.kind != SESSION and m.session_id not in sessions]
    by_project: dict[str | None, list[Memory]] = {}
    for memory in items:
        by_project.setdefault(memory.project_id, []).append(memory)
    for project_id, group in by_project.items():
        _forget_items(db, ring, project_id, group, done)
    return done


def forget_session(db: DBSession, session: Session, done: Forgotten) -> None:
    """Remove ``session`` and everything it stored; its tombstone keeps it from coming back."""
    project_id = session.project_id
    if project_id:
        hold_project(db, project_id, forgetting=True)
    snippets = db.execute(
        select(ContextSnippet.content_hash).where(
            (ContextSnippet.session_id == session.id)
            | (
                (ContextSnippet.project_id == project_id)
                & (ContextSnippet.turn_session == session.external_id)
            )
        )
    ).scalars()
    hashes = [h for h in snippets if h]
    project = db.get(Project, project_id) if project_id else None
    if project is not None:
        done.snippets += len(memory_rows.retract_snippets(db, project, hashes))
        db.execute(
            update(ContextSnippet)
            .where(ContextSnippet.session_id == session.id)
            .values(session_id=None)  # held by other sessions too: theirs now
        )
        done.projects.add(project.id)
    done.decisions += _deleted(db, delete(DecisionLog).where(DecisionLog.session_id == session.id))
    done.sessions += max(
        _deleted(
            db, delete(ConversationContext).where(ConversationContext.session_id == session.id)
        ),
        1,
    )
    done.deltas_removed += (
        db.scalar(
            select(func.count()).select_from(SavedDelta).where(SavedDelta.session_id == session.id)
        )
        or 0
    )
    db.execute(delete(ProjectState).where(ProjectState.last_session_id == session.id))
    db.execute(delete(SavedDelta).where(SavedDelta.session_id == session.id))
    if project_id:
        bury(db, project_id, SESSION, [session_mark(session.external_id)])
    db.delete(session)
    db.flush()


def _deleted(db: DBSession, statement: object) -> int:
    return max(db.execute(statement).rowcount or 0, 0)  # type: ignore[call-overload]


def _forget_items(
    db: DBSession, ring: KeyRing, project_id: str | None, items: list[Memory], done: Forgotten
) -> None:
    """Remove decisions and snippets of one project, and their text from its deltas."""
    decisions = [m.id for m in items if m.kind == DECISION]
    snippets = [m.id for m in items if m.kind == SNIPPET]
    if decisions:
        rows = list(db.scalars(select(DecisionLog).where(DecisionLog.id.in_(decisions))))
        marks = [r.content_hash or memory_rows.content_hash(r.decision_text) for r in rows]
        texts = {r.decision_text for r in rows}
        db.execute(delete(DecisionLog).where(DecisionLog.id.in_(decisions)))
        done.decisions += len(rows)
        if project_id:
            bury(db, project_id, DECISION, marks)
            _drop_state_decisions(db, project_id, texts)
    if snippets:
        rows = list(db.scalars(select(ContextSnippet).where(ContextSnippet.id.in_(snippets))))
        db.execute(delete(ContextSnippet).where(ContextSnippet.id.in_(snippets)))
        done.snippets += len(rows)
        if project_id:
            memory_rows.count_terms(
                db,
                project_id,
                [{"title": r.title, "dense_content": r.dense_content} for r in rows],
                sign=-1,
            )
            bury(db, project_id, SNIPPET, [r.content_hash for r in rows if r.content_hash])
    if project_id is None:
        return
    done.projects.add(project_id)
    # A memory with no session (a snippet stored before 0012) may come from any of them.
    sessions = {m.session_id for m in items}
    where = SavedDelta.project_id == project_id
    if None not in sessions:
        where = where & SavedDelta.session_id.in_(sorted(s for s in sessions if s))
    pieces = scrub.fragments(text for m in items for text in (m.title, m.text))
    texts, rewritten = _scrub_deltas(db, ring, project_id, where, pieces)
    done.deltas_rewritten += rewritten
    for session_id, pieces_of in texts.items():
        _summarise_again(db, session_id, pieces_of)
    done.copies += _scrub_copies(db, project_id, pieces)


SEARCHED_PIECES = 20  # the longest pieces of a forgotten memory its copies are looked for by
# The text columns of each kind of memory that may hold a copy of another's text.
COPIES = (
    (ConversationContext, ("title", "dense_summary", "key_decisions", "current_state")),
    (DecisionLog, ("decision_text", "rationale", "alternatives_considered")),
    (ContextSnippet, ("title", "dense_content")),
    (ProjectState, ("blockers", "next_actions", "context_summary", "important_decisions")),
)


def _scrub_copies(db: DBSession, project_id: str, pieces: list[str]) -> int:
    """Take ``pieces`` out of the project's other memories that hold them word for word;
    how many were rewritten."""
    if not pieces:
        return 0
    rewritten = 0
    for model, columns in COPIES:
        holding = [
            getattr(model, column).contains(piece, autoescape=True)
            for piece in pieces[:SEARCHED_PIECES]
            for column in columns
        ]
        fields = [getattr(model, column) for column in columns]
        rows = db.execute(
            select(model.id, *fields).where(model.project_id == project_id, or_(*holding))
        ).all()
        for row in rows:
            changed = {
                column: scrub.scrub_text(value, pieces)
                for column, value in zip(columns, row[1:], strict=True)
                if value
            }
            db.execute(  # its time stays: what it says changed, not when it happened
                update(model)
                .where(model.id == row.id)
                .values(**changed, updated_at=model.updated_at)
                .execution_options(synchronize_session=False)
            )
            rewritten += 1
    db.flush()
    return rewritten


def _scrub_deltas(
    db: DBSession, ring: KeyRing, project_id: str, where: object, pieces: list[str]
) -> tuple[dict[str, list[bytes]], int]:
    """Take ``pieces`` out of the deltas ``where`` selects (every delta of the sessions they
    are in); the texts, in transcript order, of each session whose deltas changed, and how
    many deltas were rewritten. The lines changed are buried, as they were."""
    texts: dict[str, list[bytes]] = {}
    changed_sessions: set[str] = set()
    buried: set[bytes] = set()
    rewritten = 0
    rows = db.scalars(
        select(SavedDelta)
        .where(where)
        .order_by(SavedDelta.session_id, SavedDelta.start_offset, SavedDelta.created_at)
    )
    for row in rows:
        bound = associated_data(row.project_id, row.session_id, "delta")
        text, changed = scrub.scrub(ring.decrypt(row.payload, bound), pieces)
        texts.setdefault(row.session_id, []).append(text)
        if not changed:
            continue
        row.payload, row.key_id = ring.encrypt(text, bound), ring.key_ids[0]
        changed_sessions.add(row.session_id)
        buried |= changed
        rewritten += 1
    bury(db, project_id, LINE, [digest.hex() for digest in buried])
    db.flush()
    return {s: t for s, t in texts.items() if s in changed_sessions}, rewritten


def _summarise_again(db: DBSession, session_id: str, pieces: list[bytes]) -> None:
    """Write the session's summary again from its scrubbed deltas (``pieces``, in transcript
    order)."""
    session = db.get(Session, session_id)
    project = db.get(Project, session.project_id) if session and session.project_id else None
    if session is None or project is None:
        return
    memory = compress_bytes(settled(pieces), session.source_format, exchanges=False)
    tombstones(db, project.id).drop_from(memory)
    memory_rows.upsert_context(db, project, session, None, memory)


def _drop_state_decisions(db: DBSession, project_id: str, texts: set[str]) -> None:
    state = db.scalars(select(ProjectState).where(ProjectState.project_id == project_id)).first()
    if state is None or not state.important_decisions:
        return
    try:
        kept = [d for d in json.loads(state.important_decisions) if d not in texts]
    except ValueError:
        return
    state.important_decisions = memory_rows.as_json(kept)


def pin(db: DBSession, ids: Sequence[str], pinned: bool = True) -> list[Memory]:
    """Pin (or unpin) the memories with these ids; the memories changed. A pinned memory is
    at full relevance, which decay then leaves as it is."""
    found = find(db, ids)
    for kind, model in KINDS.items():
        chosen = [m.id for m in found if m.kind == kind]
        if not chosen:
            continue
        values: dict[str, object] = {"pinned": pinned, "updated_at": model.updated_at}
        if pinned and kind != DECISION:
            values["relevance_score"] = 1.0
        db.execute(update(model).where(model.id.in_(chosen)).values(**values))
    return found
