"""Recall: a chat turn's session, part and position as indexed columns.

Recall reads the turns around a matching turn (an answer rarely repeats the words of its
question). They were only inside ``structured_data``; these columns, filled from it for
existing rows, let the database find a turn's neighbours by index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 18:40:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _backfill() -> None:
    from contextrecall.migrate import batches

    bind = op.get_bind()
    snippets = sa.table(
        "context_snippets",
        sa.column("id"),
        sa.column("structured_data"),
        sa.column("turn_session"),
        sa.column("turn_part"),
        sa.column("turn_position"),
    )
    statement = sa.select(snippets.c.id, snippets.c.structured_data).where(
        snippets.c.structured_data.like('%"position"%')
    )
    for rows in batches(bind, statement, snippets.c.id, BATCH):
        for row in rows:
            try:
                data = json.loads(row.structured_data)
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("position"), int):
                part = data.get("part")
                bind.execute(
                    snippets.update()
                    .where(snippets.c.id == row.id)
                    .values(
                        turn_session=str(data.get("session") or "")[:255] or None,
                        turn_part=part if isinstance(part, int) else None,
                        turn_position=data["position"],
                    )
                )


def upgrade() -> None:
    op.add_column("context_snippets", sa.Column("turn_session", sa.String(255), nullable=True))
    op.add_column("context_snippets", sa.Column("turn_part", sa.Integer(), nullable=True))
    op.add_column("context_snippets", sa.Column("turn_position", sa.Integer(), nullable=True))
    op.create_index(
        "idx_context_snippets_turn",
        "context_snippets",
        ["project_id", "turn_session", "turn_part", "turn_position"],
    )
    _backfill()


def downgrade() -> None:
    op.drop_index("idx_context_snippets_turn", table_name="context_snippets")
    with op.batch_alter_table("context_snippets") as batch:
        batch.drop_column("turn_position")
        batch.drop_column("turn_part")
        batch.drop_column("turn_session")
