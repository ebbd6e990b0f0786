"""Store identity: one row holding a random id that names this database.

A worker's confirmation that it holds a job names this id, and a client keeps its copy of a
job until the store it writes to (this id, learned once) confirms it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 20:30:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "store_identity",
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False, server_default="1"),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_identity")),
        sa.UniqueConstraint("slot", name=op.f("uq_store_identity_slot")),
    )
    op.bulk_insert(table, [{"id": str(uuid.uuid4()), "slot": 1}])


def downgrade() -> None:
    op.drop_table("store_identity")
