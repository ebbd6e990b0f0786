"""Writing a session's memory: the stored delta, context, decisions, snippets, state.

Plain functions over a SQLAlchemy session, no Celery (``save_job`` calls them in order).
Everything happens in the caller's transaction; the (session, delta hash) unique key makes a
redelivered job a no-op.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session as DBSession

from contextrecall.dialect import (
    insert_ignoring_duplicates,
    upsert_adding,
    upsert_counting,
)
from contextrecall.memory import MANUAL_FORMAT, SessionMemory, Snippet
from contextrecall.models import (
    ContextSnippet,
    ContextTag,
    ConversationContext,
    DecisionLog,
    Machine,
    Project,
    ProjectState,
    SavedDelta,
    Session,
    TermCount,
    new_uuid,
)
from contextrecall.store.parents import get_or_create, parse_time, utc_now
from contextrecall.terms import TOTAL_TERM, counted_terms

SESSION_SUMMARY = "session_summary"
MAX_STATE_ITEMS = 20


class DuplicateDelta(Exception):
    """This delta of this session is already stored."""


@dataclass(frozen=True)
class StoredJob:
    project_id: str
    project_identity: str
    session_id: str
    context_id: str | None  # None when the job added nothing new
    decisions_added: int
    snippets_seen: int
    # every summary, decision and snippet the job wrote: {table name: ids}
    memory_ids: dict[str, tuple[str, ...]] = field(default_factory=dict)


def content_hash(*parts: str) -> str:
    """Hash of normalized text, so trivially different copies count as the same memory."""
    normalized = "\x1f".join(re.sub(r"\s+", " ", p).strip().lower() for p in parts)
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def record_delta(
    db: DBSession,
    session: Session,
    project: Project,
    *,
    job_id: str,
    delta_hash: str,
    start: int,
    end: int,
    sealed: tuple[bytes, str],
    earlier: list[SavedDelta],
) -> SavedDelta:
    """Store an encrypted delta (``sealed``: payload and key id); DuplicateDelta if
    ``earlier`` (the session's stored deltas) already holds its hash.

    Call with the session locked (``lock_session``): no other save of this session can then
    insert between the check and the insert; the unique key still backs the check up.
    """
    check_new(earlier, delta_hash)
    payload, key_id = sealed
    row = SavedDelta(
        id=new_uuid(),
        session_id=session.id,
        project_id=project.id,
        job_id=job_id[:64],
        delta_hash=delta_hash,
        start_offset=start,
        end_offset=end,
        key_id=key_id,
        payload=payload,
    )
    db.add(row)
    return row


def check_new(earlier: list[SavedDelta], delta_hash: str) -> None:
    """DuplicateDelta when ``earlier`` (a session's stored deltas) holds ``delta_hash``."""
    if any(row.delta_hash == delta_hash for row in earlier):
        raise DuplicateDelta(delta_hash)


def session_deltas(db: DBSession, session_id: str) -> list[SavedDelta]:
    """A session's stored deltas in transcript order."""
    return list(
        db.scalars(
            select(SavedDelta)
            .where(SavedDelta.session_id == session_id)
            .order_by(SavedDelta.start_offset, SavedDelta.created_at)
        )
    )


def _insert_tags(
    db: DBSession, project_id: str, column: str, tags: dict[str, Iterable[str]]
) -> None:
    """One context_tags row per (item, distinct tag); ``column`` names the item's kind."""
    rows = [
        {"id": new_uuid(), "project_id": project_id, "tag": tag[:100], column: item_id}
        for item_id, item_tags in tags.items()
        for tag in sorted(set(item_tags))
    ]
    if rows:
        db.execute(ContextTag.__table__.insert(), rows)


def _replace_tags(
    db: DBSession, project_id: str, column: str, item_id: str, tags: Iterable[str]
) -> None:
    db.execute(delete(ContextTag).where(getattr(ContextTag, column) == item_id))
    _insert_tags(db, project_id, column, {item_id: tags})


def upsert_context(
    db: DBSession,
    project: Project,
    session: Session,
    machine: Machine | None,
    memory: SessionMemory,
) -> ConversationContext:
    """The one session-summary context of a session, refreshed from its whole memory."""
    context = get_or_create(
        db,
        ConversationContext,
        {"session_id": session.id, "context_type": SESSION_SUMMARY},
        project_id=project.id,
        title=memory.title[:200] or "(untitled session)",
    )
    context.project_id = project.id
    context.machine_id = machine.id if machine else context.machine_id
    context.title = (memory.title or "(untitled session)")[:200]
    context.dense_summary = memory.summary
    context.key_decisions = as_json(
        [{"text": d.text, "rationale": d.rationale, "impact": d.impact} for d in memory.decisions]
    )
    context.current_state = as_json(
        {
            "state": memory.state.__dict__,
            "files": [f.__dict__ for f in memory.files[:MAX_STATE_ITEMS]],
            # the newest: both are in the order they last ran or were made
            "commands": [c.__dict__ for c in memory.commands[-MAX_STATE_ITEMS:]],
            "commits": memory.commits[-MAX_STATE_ITEMS:],
            "pull_requests": memory.pull_requests,
            "uncommitted": memory.uncommitted[-MAX_STATE_ITEMS:],
            "tool_errors": memory.tool_errors,
            "branch": memory.branch,
            "worktree": memory.worktree,
            "first_request": memory.first_request,
            "last_request": memory.last_request,
            "started_at": memory.started_at,
            "ended_at": memory.ended_at,
        }
    )
    tags = as_json(memory.tags)
    tags_changed = tags != context.tags
    context.tags = tags
    context.updated_at = happened(memory.ended_at, memory.started_at)
    db.flush()
    if tags_changed:
        _replace_tags(db, project.id, "context_id", context.id, memory.tags)
    session.git_branch = memory.branch or session.git_branch
    session.started_at = session.started_at or parse_time(memory.started_at)
    session.ended_at = parse_time(memory.ended_at) or session.ended_at
    return context


def happened(*times: str | None) -> datetime:
    """When something happened: the first of ``times`` (transcript timestamps) that reads,
    never later than now; now when none does."""
    now = utc_now()
    for value in times:
        parsed = parse_time(value)
        if parsed is not None:
            return min(parsed, now)
    return now


def add_decisions(
    db: DBSession,
    project: Project,
    session: Session,
    memory: SessionMemory,
    hashes: list[str] | None = None,
) -> int:
    """Append the delta's decisions, dated when they were made; one already logged for the
    project is not repeated. Their content hashes are added to ``hashes``."""
    rows, tags = [], {}
    when = happened(memory.ended_at, memory.started_at)
    for decision in memory.decisions:
        row_id = new_uuid()
        tags[row_id] = decision.tags
        rows.append(
            {
                "id": row_id,
                "project_id": project.id,
                "session_id": session.id,
                "decision_type": decision.decision_type[:100],
                "impact": decision.impact[:50],
                "decision_text": decision.text,
                "rationale": decision.rationale,
                "alternatives_considered": as_json(decision.alternatives),
                "tags": as_json(decision.tags),
                "content_hash": content_hash(decision.text),
                "created_at": when,
                "updated_at": when,
            }
        )
    insert_ignoring_duplicates(db, DecisionLog.__table__, rows, key=("project_id", "content_hash"))
    if hashes is not None:
        hashes.extend(row["content_hash"] for row in rows)
    return tag_new_rows(db, project.id, DecisionLog, "decision_id", tags)


def snippet_hash(snippet: Snippet) -> str:
    """What makes two snippets the same memory of a project."""
    return content_hash(snippet.category, snippet.identity or snippet.content)


def add_snippets(
    db: DBSession,
    project: Project,
    session: Session,
    memory: SessionMemory,
    part: int = 0,
    hashes: list[str] | None = None,
) -> int:
    """Upsert the delta's snippets by content hash; a repeat bumps its occurrence count.
    Their content hashes are added to ``hashes``.

    Chat facts remember their session, ``part`` (the delta's start offset) and position, so
    recall can show a fact's neighbours."""
    rows, tags = [], {}
    for snippet in memory.snippets:
        row_id = new_uuid()
        tags[row_id] = snippet.tags
        structured = {
            "speaker": snippet.speaker,
            "occurred_at": snippet.occurred_at,
            "importance": snippet.importance,
            "ref": snippet.ref,
            "position": snippet.position,
            "session": session.external_id if snippet.position is not None else None,
            "part": part if snippet.position is not None else None,
        }
        rows.append(
            {
                "id": row_id,
                "project_id": project.id,
                "category": snippet.category[:100],
                "title": snippet.title[:200] or snippet.category,
                "dense_content": snippet.content,
                "structured_data": as_json({k: v for k, v in structured.items() if v is not None}),
                "tags": as_json(snippet.tags),
                "content_hash": snippet_hash(snippet),
                "importance": float(snippet.importance),
                "created_at": (when := happened(snippet.occurred_at, memory.ended_at)),
                "updated_at": when,
                "turn_session": structured["session"],
                "turn_part": structured["part"],
                "turn_position": snippet.position,
                "session_id": session.id,
            }
        )
    # De-duplicate inside the batch too: MariaDB and SQLite both count a second copy.
    upsert_counting(
        db,
        ContextSnippet.__table__,
        rows,
        key=("project_id", "content_hash"),
        counter="occurrences",
        refresh=("updated_at",),
    )
    if hashes is not None:
        hashes.extend(row["content_hash"] for row in rows)
    inserted = _new_row_ids(db, ContextSnippet, list(tags))
    tag_new_rows(db, project.id, ContextSnippet, "snippet_id", tags, inserted)
    count_terms(db, project.id, [row for row in rows if row["id"] in inserted])
    return len(rows)


def retract_snippets(db: DBSession, project: Project, hashes: Iterable[str]) -> list[str]:
    """Take back one occurrence of each of the project's snippets with these hashes (a
    session's partial exchange that a later save completed): a snippet no other session
    holds is deleted (its tags with it) and leaves the term counts. The ids deleted."""
    wanted = sorted(set(hashes))
    if not wanted:
        return []
    rows = db.execute(
        select(
            ContextSnippet.id,
            ContextSnippet.occurrences,
            ContextSnippet.title,
            ContextSnippet.dense_content,
        )
        .where(ContextSnippet.project_id == project.id, ContextSnippet.content_hash.in_(wanted))
        .order_by(ContextSnippet.id)
    ).all()
    shared = [row.id for row in rows if row.occurrences > 1]
    gone = [row for row in rows if row.occurrences <= 1]
    if shared:
        db.execute(
            update(ContextSnippet)
            .where(ContextSnippet.id.in_(shared))
            .values(occurrences=ContextSnippet.occurrences - 1)
        )
    if gone:
        ids = [row.id for row in gone]
        db.execute(delete(ContextSnippet).where(ContextSnippet.id.in_(ids)))  # tags cascade
        count_terms(
            db,
            project.id,
            [{"title": row.title, "dense_content": row.dense_content} for row in gone],
            sign=-1,
        )
    return [row.id for row in gone]


def count_terms(
    db: DBSession, project_id: str, rows: Iterable[dict[str, Any]], sign: int = 1
) -> None:
    """Add new snippets' terms to the project's document frequencies (``sign`` -1: take
    removed ones' out), in key order, so concurrent saves lock the same rows in the same
    order."""
    documents: Counter[str] = Counter()
    for row in rows:
        documents[TOTAL_TERM] += sign
        for term in counted_terms(row["title"], row["dense_content"]):
            documents[term] += sign
    upsert_adding(
        db,
        TermCount.__table__,
        [
            {"project_id": project_id, "term": term, "documents": count}
            for term, count in sorted(documents.items())
        ],
        key=("project_id", "term"),
        column="documents",
    )


def ids_by_hash(db: DBSession, model: type, project_id: str, hashes: list[str]) -> tuple[str, ...]:
    """The ids of the project's rows of ``model`` with these content hashes."""
    found: list[str] = []
    for start in range(0, len(hashes), 500):
        found += db.scalars(
            select(model.id).where(
                model.project_id == project_id, model.content_hash.in_(hashes[start : start + 500])
            )
        )
    return tuple(found)


def _new_row_ids(db: DBSession, model: type, ids: list[str]) -> set[str]:
    """Which of the ``ids`` just offered to an upsert were really inserted."""
    return set(db.scalars(select(model.id).where(model.id.in_(ids)))) if ids else set()


def tag_new_rows(
    db: DBSession,
    project_id: str,
    model: type,
    column: str,
    tags: dict[str, list[str]],
    inserted: set[str] | None = None,
) -> int:
    """Tag the rows of ``tags`` that were really inserted (not merged into an old row)."""
    if not tags:
        return 0
    if inserted is None:
        inserted = _new_row_ids(db, model, list(tags))
    _insert_tags(db, project_id, column, {item_id: tags[item_id] for item_id in inserted})
    return len(inserted)


def upsert_project_state(
    db: DBSession, project: Project, session: Session, memory: SessionMemory
) -> ProjectState:
    """The project's one state row, updated with what the latest session knows.

    Memories saved by hand know nothing of phase, blockers or files: they leave all that as
    it was and only add their decisions to the important ones."""
    state = get_or_create(db, ProjectState, {"project_id": project.id})
    if memory.source_format == MANUAL_FORMAT:
        earlier = [d for d in json.loads(state.important_decisions or "[]") if isinstance(d, str)]
        added = [d.text for d in memory.decisions if d.text not in earlier]
        if added:
            state.important_decisions = as_json((earlier + added)[-MAX_STATE_ITEMS:])
            state.updated_at = utc_now()
        return state
    update = memory.state
    state.last_session_id = session.id
    if update.phase:
        state.current_phase = update.phase[:100]
    if update.progress_percentage is not None:
        state.progress_percentage = max(0, min(100, int(update.progress_percentage)))
    state.blockers = as_json(update.blockers[:MAX_STATE_ITEMS])
    state.next_actions = as_json(update.next_actions[:MAX_STATE_ITEMS])
    key_files = update.key_files or [f.path for f in memory.files]
    state.key_files = as_json(key_files[:MAX_STATE_ITEMS])
    decisions = update.important_decisions or [d.text for d in memory.decisions]
    state.important_decisions = as_json(decisions[-MAX_STATE_ITEMS:])
    state.context_summary = update.summary or memory.summary
    state.updated_at = utc_now()
    return state
