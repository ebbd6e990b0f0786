"""Write path: stored deltas, failed jobs, content hashes for idempotent upserts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("CURRENT_TIMESTAMP")
BLOB = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "failed_jobs",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("task_name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=NOW, nullable=False),
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_jobs")),
        sa.UniqueConstraint("job_id", name="uq_failed_jobs_job"),
    )
    op.create_index("idx_failed_jobs_created", "failed_jobs", ["created_at"])
    op.create_table(
        "saved_deltas",
        sa.Column("session_id", sa.CHAR(length=36), nullable=False),
        sa.Column("project_id", sa.CHAR(length=36), nullable=True),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("delta_hash", sa.CHAR(length=64), nullable=False),
        sa.Column("start_offset", sa.BigInteger(), nullable=False),
        sa.Column("end_offset", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("payload", BLOB, nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=NOW, nullable=False),
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_saved_deltas_project_id_projects"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_saved_deltas_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_deltas")),
        sa.UniqueConstraint("session_id", "delta_hash", name="uq_saved_deltas_session_hash"),
    )
    op.create_index("idx_saved_deltas_job", "saved_deltas", ["job_id"])
    op.create_index("idx_saved_deltas_project", "saved_deltas", ["project_id"])
    with op.batch_alter_table("conversation_contexts") as batch:
        batch.create_unique_constraint(
            "uq_conversation_contexts_session_type", ["session_id", "context_type"]
        )
    with op.batch_alter_table("context_snippets") as batch:
        batch.add_column(sa.Column("content_hash", sa.CHAR(length=64), nullable=True))
        batch.add_column(sa.Column("occurrences", sa.Integer(), server_default="1", nullable=False))
        batch.create_unique_constraint(
            "uq_context_snippets_project_hash", ["project_id", "content_hash"]
        )
    with op.batch_alter_table("decision_logs") as batch:
        batch.add_column(sa.Column("content_hash", sa.CHAR(length=64), nullable=True))
        batch.create_unique_constraint(
            "uq_decision_logs_project_hash", ["project_id", "content_hash"]
        )


def downgrade() -> None:
    with op.batch_alter_table("decision_logs") as batch:
        batch.drop_constraint("uq_decision_logs_project_hash", type_="unique")
        batch.drop_column("content_hash")
    with op.batch_alter_table("context_snippets") as batch:
        batch.drop_constraint("uq_context_snippets_project_hash", type_="unique")
        batch.drop_column("occurrences")
        batch.drop_column("content_hash")
    with op.batch_alter_table("conversation_contexts") as batch:
        batch.drop_constraint("uq_conversation_contexts_session_type", type_="unique")
    op.drop_table("saved_deltas")
    op.drop_table("failed_jobs")
