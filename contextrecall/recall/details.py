"""The full text of memory items by id, for one project only (what a search listed briefly).

Ids of another project's items are treated exactly like ids that do not exist: isolation
means a caller cannot even learn that they exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from contextrecall.models import ContextSnippet, ConversationContext, DecisionLog, Session
from contextrecall.recall.loading import parsed_json

MAX_IDS = 50


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _decision(row: DecisionLog, session: str | None) -> dict[str, Any]:
    return {
        "kind": "decision",
        "id": row.id,
        "text": row.decision_text,
        "rationale": row.rationale,
        "alternatives": parsed_json(row.alternatives_considered, []),
        "impact": row.impact,
        "decision_type": row.decision_type,
        "tags": parsed_json(row.tags, []),
        "session": session,
        "created_at": _time(row.created_at),
    }


def _snippet(row: ContextSnippet) -> dict[str, Any]:
    extra = parsed_json(row.structured_data, {})
    return {
        "kind": "fact" if row.category == "fact" else "snippet",
        "id": row.id,
        "category": row.category,
        "title": row.title,
        "text": row.dense_content,
        "tags": parsed_json(row.tags, []),
        "speaker": extra.get("speaker"),
        "occurred_at": extra.get("occurred_at"),
        "session": extra.get("session"),
        "occurrences": row.occurrences,
        "uses": row.usage_count,
        "created_at": _time(row.created_at),
        "updated_at": _time(row.updated_at),
    }


def _context(row: ConversationContext, session: str | None) -> dict[str, Any]:
    return {
        "kind": "session",
        "id": row.id,
        "title": row.title,
        "text": row.dense_summary or "",
        "decisions": parsed_json(row.key_decisions, []),
        "state": parsed_json(row.current_state, {}),
        "tags": parsed_json(row.tags, []),
        "session": session,
        "updated_at": _time(row.updated_at),
    }


def memory_details(db: DBSession, project_id: str, ids: list[str]) -> list[dict[str, Any]]:
    """The items of ``project_id`` among ``ids``, in the order asked (unknown ids left out)."""
    wanted = list(dict.fromkeys(str(i).strip() for i in ids))[:MAX_IDS]
    if not wanted:
        return []
    found: dict[str, dict[str, Any]] = {}
    for row, session in db.execute(
        select(DecisionLog, Session.external_id)
        .outerjoin(Session, Session.id == DecisionLog.session_id)
        .where(DecisionLog.project_id == project_id, DecisionLog.id.in_(wanted))
    ):
        found[row.id] = _decision(row, session)
    for row in db.scalars(
        select(ContextSnippet).where(
            ContextSnippet.project_id == project_id, ContextSnippet.id.in_(wanted)
        )
    ):
        found[row.id] = _snippet(row)
    for row, session in db.execute(
        select(ConversationContext, Session.external_id)
        .outerjoin(Session, Session.id == ConversationContext.session_id)
        .where(ConversationContext.project_id == project_id, ConversationContext.id.in_(wanted))
    ):
        found[row.id] = _context(row, session)
    return [found[i] for i in wanted if i in found]
