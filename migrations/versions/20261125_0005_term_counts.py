"""Recall: per-project document frequencies of snippet terms.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "term_counts",
        sa.Column("project_id", sa.CHAR(36), nullable=False),
        sa.Column("term", sa.String(64), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_term_counts_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "term", name="pk_term_counts"),
    )


def downgrade() -> None:
    op.drop_table("term_counts")
