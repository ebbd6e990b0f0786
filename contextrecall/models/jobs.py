"""Write-path bookkeeping: stored deltas (idempotency, encrypted text) and failed jobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CHAR,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from contextrecall.models.base import Base, UUIDKey

# MariaDB's BLOB stops at 64 KiB; deltas can be megabytes.
Blob = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


class SavedDelta(UUIDKey, Base):
    """One stored slice of a session's transcript. (session, hash) is unique: a redelivered
    or duplicated job finds its row and changes nothing. The raw (already redacted) text is
    kept AES-256-GCM encrypted, bound to its project and session."""

    __tablename__ = "saved_deltas"

    session_id: Mapped[str] = mapped_column(
        CHAR(36), ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
    )
    project_id: Mapped[str | None] = mapped_column(
        CHAR(36), ForeignKey("projects.id", ondelete="SET NULL")
    )
    job_id: Mapped[str] = mapped_column(String(64), nullable=False)
    delta_hash: Mapped[str] = mapped_column(CHAR(64), nullable=False)
    start_offset: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    end_offset: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    payload: Mapped[bytes] = mapped_column(Blob, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=text("CURRENT_TIMESTAMP")
    )

    __table_args__ = (
        UniqueConstraint("session_id", "delta_hash", name="uq_saved_deltas_session_hash"),
        Index("idx_saved_deltas_job", "job_id"),
        Index("idx_saved_deltas_project", "project_id"),
    )


class FailedJob(UUIDKey, Base):
    """A job that can never succeed, recorded once with its reason instead of retried forever."""

    __tablename__ = "failed_jobs"

    job_id: Mapped[str] = mapped_column(String(64), nullable=False)
    task_name: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    summary: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=text("CURRENT_TIMESTAMP")
    )

    __table_args__ = (
        UniqueConstraint("job_id", name="uq_failed_jobs_job"),
        Index("idx_failed_jobs_created", "created_at"),
    )


class StoreIdentity(UUIDKey, Base):
    """The store's one row (``slot`` 1): a random id naming this database however it is
    reached (a client's URL and a worker's differ under docker compose), so a worker's word
    that it holds a job names the store that holds it, and a job can name the store it is for."""

    __tablename__ = "store_identity"

    slot: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=text("CURRENT_TIMESTAMP")
    )

    __table_args__ = (UniqueConstraint("slot", name="uq_store_identity_slot"),)
