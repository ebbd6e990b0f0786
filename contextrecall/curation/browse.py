"""What the memory browser shows, read from the database: the projects, a project's sessions
as a timeline, one session with everything it stored, the pinned memories."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DBSession

from contextrecall.models import (
    ContextSnippet,
    ConversationContext,
    DecisionLog,
    Project,
    Session,
)
from contextrecall.recall.loading import parsed_json

AGENTS = {
    "claude": "Claude Code",
    "codex": "Codex",
    "gemini": "Gemini CLI",
    "chat": "chat log",
    "manual": "saved by hand",
}
TIMELINE = 200  # sessions a project page lists, the newest first
SESSION_ITEMS = 500  # snippets a session page lists


@dataclass(frozen=True)
class ProjectRow:
    id: str
    name: str
    identity: str
    sessions: int
    memories: int
    last: datetime | None


def projects(db: DBSession) -> list[ProjectRow]:
    """Every project with its sessions, memories and last activity, the latest first."""
    found = []
    for project in db.scalars(select(Project)):
        sessions = db.scalar(
            select(func.count()).select_from(Session).where(Session.project_id == project.id)
        )
        memories, last = 0, None
        for model in (ConversationContext, DecisionLog, ContextSnippet):
            count, latest = db.execute(
                select(func.count(), func.max(model.updated_at)).where(
                    model.project_id == project.id
                )
            ).one()
            memories += count
            last = max(filter(None, (last, latest)), default=None)
        found.append(
            ProjectRow(project.id, project.name, project.identity, sessions or 0, memories, last)
        )
    return sorted(found, key=lambda p: (p.last is not None, p.last), reverse=True)


def project(db: DBSession, project_id: str) -> Project | None:
    return db.get(Project, project_id)


@dataclass
class Memory:
    """One memory as a page lists it."""

    kind: str  # session, decision or snippet
    id: str
    title: str
    text: str
    when: datetime | None
    pinned: bool
    category: str = ""


@dataclass
class SessionView:
    """A session: when, its branch, what was asked and concluded, what it ran and changed,
    its pull requests and what it left to do."""

    id: str
    external_id: str
    when: datetime | None
    branch: str | None
    title: str
    summary: str
    first_request: str | None
    last_request: str | None
    commands: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    pull_requests: list[str] = field(default_factory=list)  # the links its work named
    next_steps: list[str] = field(default_factory=list)  # its open todos, or the steps it named
    uncommitted: list[str] = field(default_factory=list)  # files edited after its last commit
    decisions: list[Memory] = field(default_factory=list)
    snippets: list[Memory] = field(default_factory=list)
    summary_id: str | None = None
    pinned: bool = False
    agent: str = "claude"  # whose transcript it is (an ``AGENTS`` name: Claude Code, Codex …)


def _session_view(session: Session, context: ConversationContext | None) -> SessionView:
    state = parsed_json(context.current_state, {}) if context else {}
    return SessionView(
        id=session.id,
        external_id=session.external_id,
        when=session.ended_at or session.started_at or session.updated_at,
        branch=session.git_branch or state.get("branch"),
        title=context.title if context else "(nothing stored yet)",
        summary=(context.dense_summary or "") if context else "",
        first_request=state.get("first_request"),
        last_request=state.get("last_request"),
        commands=[c for c in state.get("commands") or [] if isinstance(c, dict)],
        files=[f for f in state.get("files") or [] if isinstance(f, dict)],
        commits=[str(c) for c in state.get("commits") or []],
        pull_requests=[str(p) for p in state.get("pull_requests") or []],
        next_steps=[str(n) for n in (state.get("state") or {}).get("next_actions") or []],
        uncommitted=[str(path) for path in state.get("uncommitted") or []],
        summary_id=context.id if context else None,
        pinned=bool(context and context.pinned),
        agent=AGENTS.get(session.source_format, session.source_format),
    )


def timeline(db: DBSession, project_id: str, limit: int = TIMELINE) -> list[SessionView]:
    """The project's sessions, the newest first, each with its summary and recorded state."""
    rows = db.execute(
        select(Session, ConversationContext)
        .outerjoin(ConversationContext, ConversationContext.session_id == Session.id)
        .where(Session.project_id == project_id)
        .order_by(func.coalesce(Session.ended_at, Session.updated_at).desc(), Session.id)
        .limit(limit)
    ).all()
    views: dict[str, SessionView] = {}
    for session, context in rows:
        views.setdefault(session.id, _session_view(session, context))
    return list(views.values())


def _decision(row: DecisionLog) -> Memory:
    text = row.decision_text
    if row.rationale and row.rationale not in text:
        text += f" (because {row.rationale})"
    return Memory("decision", row.id, "Decision", text, row.created_at, row.pinned, "decision")


def _snippet(row: ContextSnippet) -> Memory:
    return Memory(
        "snippet", row.id, row.title, row.dense_content, row.updated_at, row.pinned, row.category
    )


def session(db: DBSession, project_id: str, session_id: str) -> SessionView | None:
    """One session of the project, with the decisions and snippets it stored."""
    found = db.get(Session, session_id)
    if found is None or found.project_id != project_id:
        return None
    context = db.scalars(
        select(ConversationContext).where(ConversationContext.session_id == found.id)
    ).first()
    view = _session_view(found, context)
    view.decisions = [
        _decision(r)
        for r in db.scalars(
            select(DecisionLog)
            .where(DecisionLog.session_id == found.id)
            .order_by(DecisionLog.created_at, DecisionLog.id)
        )
    ]
    view.snippets = [
        _snippet(r)
        for r in db.scalars(
            select(ContextSnippet)
            .where(
                (ContextSnippet.session_id == found.id)
                | (
                    (ContextSnippet.project_id == project_id)
                    & (ContextSnippet.turn_session == found.external_id)
                )
            )
            .order_by(ContextSnippet.created_at, ContextSnippet.id)
            .limit(SESSION_ITEMS)
        )
    ]
    return view


def pinned(db: DBSession, project_id: str) -> list[Memory]:
    """The project's pinned memories."""
    found = [
        Memory("session", r.id, r.title, r.dense_summary or "", r.updated_at, True)
        for r in db.scalars(
            select(ConversationContext).where(
                ConversationContext.project_id == project_id, ConversationContext.pinned
            )
        )
    ]
    found += [
        _decision(r)
        for r in db.scalars(
            select(DecisionLog).where(DecisionLog.project_id == project_id, DecisionLog.pinned)
        )
    ]
    found += [
        _snippet(r)
        for r in db.scalars(
            select(ContextSnippet).where(
                ContextSnippet.project_id == project_id, ContextSnippet.pinned
            )
        )
    ]
    return found


def pins(db: DBSession, ids: list[str]) -> set[str]:
    """Which of ``ids`` are pinned."""
    found: set[str] = set()
    for model in (ConversationContext, DecisionLog, ContextSnippet):
        found |= set(db.scalars(select(model.id).where(model.id.in_(ids), model.pinned)))
    return found
