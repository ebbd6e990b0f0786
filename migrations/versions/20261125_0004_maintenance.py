"""Maintenance: relevance decay inputs (importance, last use) and the beat jobs' run records.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "maintenance_runs",
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("slot", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=20), server_default="running", nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_runs")),
        sa.UniqueConstraint("job", "slot", name="uq_maintenance_runs_job_slot"),
    )
    op.create_index("idx_maintenance_runs_job_started", "maintenance_runs", ["job", "started_at"])
    with op.batch_alter_table("conversation_contexts") as batch:
        batch.add_column(sa.Column("importance", sa.Float(), server_default="1.0", nullable=False))
    with op.batch_alter_table("context_snippets") as batch:
        batch.add_column(sa.Column("importance", sa.Float(), server_default="1.0", nullable=False))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("context_snippets") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("importance")
    with op.batch_alter_table("conversation_contexts") as batch:
        batch.drop_column("importance")
    op.drop_index("idx_maintenance_runs_job_started", table_name="maintenance_runs")
    op.drop_table("maintenance_runs")
