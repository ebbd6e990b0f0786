"""The four context tables of the Context Recall migration report, plus their tag index.

Columns, types, defaults, index names and ON DELETE rules follow the report exactly; list
fields (tags, decisions, next actions...) are TEXT holding JSON, as there. ``context_tags``
is our addition: one row per (item, tag) so tag lookups use an index instead of LIKE.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CHAR,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from contextrecall.models.base import Base, Timestamps, UUIDKey


class Pinned:
    """Added: a memory the user pinned; decay and cleanup leave it, the session start
    shows it first."""

    pinned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="0")


class ConversationContext(UUIDKey, Timestamps, Pinned, Base):
    """A compressed session: title, dense summary, decisions, state and tags."""

    __tablename__ = "conversation_contexts"

    session_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("sessions.id", ondelete="SET NULL")
    )
    project_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("projects.id", ondelete="SET NULL")
    )
    machine_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("machines.id", ondelete="SET NULL")
    )
    context_type: Mapped[str] = mapped_column(String(50), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    dense_summary: Mapped[str | None] = mapped_column(Text)
    key_decisions: Mapped[str | None] = mapped_column(Text)
    current_state: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[str | None] = mapped_column(Text)
    relevance_score: Mapped[float] = mapped_column(
        Float, nullable=False, default=1.0, server_default="1.0"
    )
    # Added: a weight on relevance decay (see maintenance.relevance).
    importance: Mapped[float] = mapped_column(
        Float, nullable=False, default=1.0, server_default="1.0"
    )

    __table_args__ = (
        Index("idx_conversation_contexts_session", "session_id"),
        Index("idx_conversation_contexts_project", "project_id"),
        Index("idx_conversation_contexts_project_updated", "project_id", "updated_at"),
        Index("idx_conversation_contexts_machine", "machine_id"),
        Index("idx_conversation_contexts_type", "context_type"),
        Index("idx_conversation_contexts_relevance", "relevance_score"),
        # Added: recall finds any session summary by its words (as for decisions).
        Index(
            "ft_conversation_contexts_text", "title", "dense_summary", mysql_prefix="FULLTEXT"
        ).ddl_if(dialect=("mysql", "mariadb")),
        UniqueConstraint(
            "session_id", "context_type", name="uq_conversation_contexts_session_type"
        ),
    )


class ContextSnippet(UUIDKey, Timestamps, Pinned, Base):
    """A small reusable fact: a command that worked, a fix, a configuration value."""

    __tablename__ = "context_snippets"

    project_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("projects.id", ondelete="SET NULL")
    )
    client_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("clients.id", ondelete="SET NULL")
    )
    category: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    dense_content: Mapped[str] = mapped_column(Text, nullable=False)
    structured_data: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[str | None] = mapped_column(Text)
    relevance_score: Mapped[float] = mapped_column(
        Float, nullable=False, default=1.0, server_default="1.0"
    )
    usage_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # Added: content hash for idempotent upserts, and how often the same snippet recurred.
    content_hash: Mapped[str | None] = mapped_column(CHAR(64))
    occurrences: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    # Added: relevance decay inputs, the extraction's importance and when recall last used it.
    importance: Mapped[float] = mapped_column(
        Float, nullable=False, default=1.0, server_default="1.0"
    )
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Added: where a chat turn sits in its conversation (session, delta, place), so recall
    # can read a turn's neighbours without scanning the project.
    turn_session: Mapped[str | None] = mapped_column(String(255))
    turn_part: Mapped[int | None] = mapped_column(Integer)
    turn_position: Mapped[int | None] = mapped_column(Integer)
    # Added: the session that first stored it (no foreign key: migration 0012 says why), so
    # forgetting a session takes its snippets with it.
    session_id: Mapped[str | None] = mapped_column(CHAR(36))

    __table_args__ = (
        UniqueConstraint("project_id", "content_hash", name="uq_context_snippets_project_hash"),
        Index(
            "idx_context_snippets_turn", "project_id", "turn_session", "turn_part", "turn_position"
        ),
        Index("idx_context_snippets_project", "project_id"),
        Index("idx_context_snippets_session", "session_id"),
        Index("idx_context_snippets_project_updated", "project_id", "updated_at"),
        Index("idx_context_snippets_client", "client_id"),
        Index("idx_context_snippets_category", "category"),
        Index("idx_context_snippets_relevance", "relevance_score"),
        Index("idx_context_snippets_usage", "usage_count"),
        # Added: the text index recall's candidate search uses on MariaDB (SQLite scans).
        Index("ft_context_snippets_text", "title", "dense_content", mysql_prefix="FULLTEXT").ddl_if(
            dialect=("mysql", "mariadb")
        ),
    )


class ProjectState(UUIDKey, Timestamps, Base):
    """Where a project stands: phase, progress, blockers, next actions, key files."""

    __tablename__ = "project_states"

    project_id: Mapped[str] = mapped_column(
        CHAR(36), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    last_session_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("sessions.id", ondelete="SET NULL")
    )
    current_phase: Mapped[str | None] = mapped_column(String(100))
    progress_percentage: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    blockers: Mapped[str | None] = mapped_column(Text)
    next_actions: Mapped[str | None] = mapped_column(Text)
    context_summary: Mapped[str | None] = mapped_column(Text)
    key_files: Mapped[str | None] = mapped_column(Text)
    important_decisions: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("idx_project_states_project", "project_id"),
        Index("idx_project_states_last_session", "last_session_id"),
        Index("idx_project_states_progress", "progress_percentage"),
    )


class DecisionLog(UUIDKey, Timestamps, Pinned, Base):
    """A decision with its rationale, the alternatives and its impact."""

    __tablename__ = "decision_logs"

    project_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("projects.id", ondelete="SET NULL")
    )
    session_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("sessions.id", ondelete="SET NULL")
    )
    decision_type: Mapped[str] = mapped_column(String(100), nullable=False)
    impact: Mapped[str] = mapped_column(
        String(50), nullable=False, default="medium", server_default="medium"
    )
    decision_text: Mapped[str] = mapped_column(Text, nullable=False)
    rationale: Mapped[str | None] = mapped_column(Text)
    alternatives_considered: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[str | None] = mapped_column(Text)
    # Added: content hash so a re-saved decision is stored once.
    content_hash: Mapped[str | None] = mapped_column(CHAR(64))

    __table_args__ = (
        UniqueConstraint("project_id", "content_hash", name="uq_decision_logs_project_hash"),
        Index("idx_decision_logs_project", "project_id"),
        Index("idx_decision_logs_project_created", "project_id", "created_at"),
        Index("idx_decision_logs_session", "session_id"),
        Index("idx_decision_logs_type", "decision_type"),
        Index("idx_decision_logs_impact", "impact"),
        # Added: recall finds any decision by its words (MariaDB; FTS5 on SQLite, migration 0008).
        Index(
            "ft_decision_logs_text",
            "decision_text",
            "rationale",
            "alternatives_considered",
            mysql_prefix="FULLTEXT",
        ).ddl_if(dialect=("mysql", "mariadb")),
    )


class ContextTag(UUIDKey, Base):
    """One tag of one memory item, so tag search is an indexed equality lookup.

    Exactly one of the three item columns is set; deleting the item deletes its tags.
    """

    __tablename__ = "context_tags"

    project_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("projects.id", ondelete="CASCADE")
    )
    tag: Mapped[str] = mapped_column(String(100), nullable=False)
    context_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("conversation_contexts.id", ondelete="CASCADE")
    )
    snippet_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("context_snippets.id", ondelete="CASCADE")
    )
    decision_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("decision_logs.id", ondelete="CASCADE")
    )

    __table_args__ = (
        CheckConstraint(
            "(context_id IS NOT NULL) + (snippet_id IS NOT NULL) + (decision_id IS NOT NULL) = 1",
            name="one_item",
        ),
        Index("idx_context_tags_project_tag", "project_id", "tag"),
        Index("idx_context_tags_tag", "tag"),
        Index("idx_context_tags_context", "context_id"),
        Index("idx_context_tags_snippet", "snippet_id"),
        Index("idx_context_tags_decision", "decision_id"),
    )


class ForgottenMemory(UUIDKey, Base):
    """Added: what a user forgot, so that no re-save or rebuild stores it again: a memory's
    content hash (``kind`` "snippet", "decision") or a session's (``kind`` "session", the
    hash of its external id)."""

    __tablename__ = "forgotten_memories"

    project_id: Mapped[str] = mapped_column(
        CHAR(36), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    content_hash: Mapped[str] = mapped_column(CHAR(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=text("CURRENT_TIMESTAMP")
    )

    __table_args__ = (
        UniqueConstraint(
            "project_id", "kind", "content_hash", name="uq_forgotten_memories_project_kind_hash"
        ),
    )
