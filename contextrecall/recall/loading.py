"""Reading a project's memory out of the database as rankable items (one project only)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from contextrecall.models import (
    ContextSnippet,
    ConversationContext,
    DecisionLog,
    ProjectState,
    Session,
)
from contextrecall.recall.ranking import Item, terms

MAX_CONTEXTS = 200
MAX_DECISIONS = 500
MAX_SNIPPETS = 20_000  # scanned in full when the database has no text index
FULLTEXT_CANDIDATES = 400


def _json(value: str | None, default: Any) -> Any:
    try:
        return json.loads(value) if value else default
    except ValueError:
        return default


def _is_mariadb(db: DBSession) -> bool:
    return db.get_bind().dialect.name in {"mysql", "mariadb"}


def context_items(db: DBSession, project_id: str, limit: int = MAX_CONTEXTS) -> list[Item]:
    rows = db.execute(
        select(ConversationContext, Session.external_id)
        .outerjoin(Session, Session.id == ConversationContext.session_id)
        .where(ConversationContext.project_id == project_id)
        .order_by(ConversationContext.updated_at.desc())
        .limit(limit)
    ).all()
    return [
        Item(
            "session",
            context.id,
            context.dense_summary or "",
            title=context.title,
            tags=_json(context.tags, []),
            relevance=context.relevance_score,
            created_at=context.updated_at,
            session=external_id,
        )
        for context, external_id in rows
    ]


def decision_items(db: DBSession, project_id: str, limit: int = MAX_DECISIONS) -> list[Item]:
    rows = db.scalars(
        select(DecisionLog)
        .where(DecisionLog.project_id == project_id)
        .order_by(DecisionLog.created_at.desc())
        .limit(limit)
    )
    items = []
    for row in rows:
        body = row.decision_text
        if row.rationale and row.rationale not in body:
            body += f" (because {row.rationale})"
        items.append(
            Item(
                "decision",
                row.id,
                body,
                title="Decision",
                tags=_json(row.tags, []),
                created_at=row.created_at,
                relevance=1.0,
            )
        )
    return items


def _snippet_item(row: ContextSnippet) -> Item:
    extra = _json(row.structured_data, {})
    return Item(
        "fact" if row.category == "fact" else "snippet",
        row.id,
        row.dense_content,
        title=row.title,
        tags=_json(row.tags, []),
        relevance=row.relevance_score,
        usage=row.usage_count,
        created_at=row.updated_at,
        speaker=extra.get("speaker"),
        when=extra.get("occurred_at"),
        session=extra.get("session"),
        part=extra.get("part"),
        position=extra.get("position"),
    )


def snippet_items(db: DBSession, project_id: str, query: str | None) -> list[Item]:
    """The project's snippets worth ranking for ``query``.

    On MariaDB a FULLTEXT index picks the candidates, so a project of 100,000 snippets costs
    one indexed query; elsewhere the snippets are read in full (the embedded database holds
    one person's memory).
    """
    statement = select(ContextSnippet).where(ContextSnippet.project_id == project_id)
    if query and _is_mariadb(db):
        from sqlalchemy.dialects.mysql import match

        # Stems with a trailing * (boolean mode, any word may match): InnoDB does not stem, so
        # "deploy*" is what finds "deploys" and "deployed".
        words = " ".join(f"{term}*" for term in dict.fromkeys(terms(query)) if len(term) >= 3)
        if not words:
            return []
        relevance = match(
            ContextSnippet.title, ContextSnippet.dense_content, against=words
        ).in_boolean_mode()
        statement = statement.where(relevance > 0).order_by(relevance.desc())
        statement = statement.limit(FULLTEXT_CANDIDATES)
    else:
        statement = statement.order_by(ContextSnippet.updated_at.desc()).limit(MAX_SNIPPETS)
    return [_snippet_item(row) for row in db.scalars(statement)]


def project_state(db: DBSession, project_id: str) -> dict[str, Any] | None:
    state = db.scalars(select(ProjectState).where(ProjectState.project_id == project_id)).first()
    if state is None:
        return None
    return {
        "phase": state.current_phase,
        "progress": state.progress_percentage,
        "blockers": _json(state.blockers, []),
        "next_actions": _json(state.next_actions, []),
        "key_files": _json(state.key_files, []),
        "decisions": _json(state.important_decisions, []),
        "summary": state.context_summary,
        "updated_at": state.updated_at,
    }
