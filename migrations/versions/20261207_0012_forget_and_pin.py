"""Forget and pin: tombstones of forgotten memory, a pin on each memory, a snippet's session.

``forgotten_memories`` holds what a user forgot (a memory's content hash, or a session's),
so a re-save or a rebuild never stores it again. ``pinned`` keeps a memory out of decay and
cleanup and first in the session-start block. ``context_snippets.session_id`` names the
session that first stored a snippet, so forgetting a session takes its snippets with it; it
is a plain indexed column (no foreign key), since adding one would make SQLite rebuild the
table and drop the triggers of its text index. Snippets stored before it have none.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PINNABLE = ("conversation_contexts", "context_snippets", "decision_logs")


def upgrade() -> None:
    op.create_table(
        "forgotten_memories",
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.Column("project_id", sa.CHAR(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("content_hash", sa.CHAR(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_forgotten_memories_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forgotten_memories")),
        sa.UniqueConstraint(
            "project_id", "kind", "content_hash", name="uq_forgotten_memories_project_kind_hash"
        ),
    )
    for table in PINNABLE:
        op.add_column(table, sa.Column("pinned", sa.Boolean(), nullable=False, server_default="0"))
    op.add_column("context_snippets", sa.Column("session_id", sa.CHAR(length=36), nullable=True))
    op.create_index("idx_context_snippets_session", "context_snippets", ["session_id"])


def downgrade() -> None:
    op.drop_index("idx_context_snippets_session", table_name="context_snippets")
    for table in PINNABLE:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("pinned")
    with op.batch_alter_table("context_snippets") as batch:
        batch.drop_column("session_id")
    op.drop_table("forgotten_memories")
