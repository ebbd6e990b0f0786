"""One row per run of a beat job; the (job, slot) key is also the single-leader claim."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contextrecall.models.base import Base, UUIDKey


class MaintenanceRun(UUIDKey, Base):
    """A run of ``job`` ("decay", "cleanup") for one schedule ``slot``; only one per slot."""

    __tablename__ = "maintenance_runs"

    job: Mapped[str] = mapped_column(String(40), nullable=False)
    slot: Mapped[str] = mapped_column(String(64), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(
        String(20), nullable=False, default="running", server_default="running"
    )
    detail: Mapped[str | None] = mapped_column(Text)  # JSON

    __table_args__ = (
        UniqueConstraint("job", "slot", name="uq_maintenance_runs_job_slot"),
        Index("idx_maintenance_runs_job_started", "job", "started_at"),
    )
