"""The owners of memory: clients, projects, machines and agent sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CHAR, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contextrecall.models.base import Base, Timestamps, UUIDKey


class Client(UUIDKey, Timestamps, Base):
    """Whoever the work is for; groups projects."""

    __tablename__ = "clients"

    name: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)


class Project(UUIDKey, Timestamps, Base):
    """One repository's memory. ``identity`` is the normalized git remote, or a path/name key."""

    __tablename__ = "projects"

    client_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("clients.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    identity: Mapped[str] = mapped_column(String(512), nullable=False, unique=True)
    git_remote: Mapped[str | None] = mapped_column(String(512))
    root_path: Mapped[str | None] = mapped_column(String(1024))

    __table_args__ = (Index("idx_projects_client", "client_id"),)


class Machine(UUIDKey, Timestamps, Base):
    """A computer an agent ran on; the fingerprint is stable across restarts."""

    __tablename__ = "machines"

    hostname: Mapped[str] = mapped_column(String(255), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    platform: Mapped[str | None] = mapped_column(String(100))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)


class Session(UUIDKey, Timestamps, Base):
    """One agent session, known to the agent by ``external_id``."""

    __tablename__ = "sessions"

    external_id: Mapped[str] = mapped_column(String(255), nullable=False)
    project_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("projects.id", ondelete="SET NULL")
    )
    machine_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("machines.id", ondelete="SET NULL")
    )
    source_format: Mapped[str] = mapped_column(String(20), nullable=False, default="claude")
    git_branch: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("project_id", "external_id", name="uq_sessions_project_external"),
        Index("idx_sessions_machine", "machine_id"),
        Index("idx_sessions_external", "external_id"),
    )
