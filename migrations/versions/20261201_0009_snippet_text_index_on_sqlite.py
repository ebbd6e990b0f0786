"""Recall: the embedded database gets a real text index over snippets too (FTS5).

On SQLite a search read the newest 20,000 snippets and ranked them all: slower as memory
grows, and blind to anything older. Like MariaDB's FULLTEXT index (0003), an FTS5 table over
titles and content now picks the candidates, so every snippet is reachable.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 20:40:00
"""

from collections.abc import Sequence

from alembic import op

from contextrecall.migrate import fts5_drop_statements, fts5_statements

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX, COLUMNS = "ft_context_snippets_text", ("title", "dense_content")


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for statement in fts5_statements("context_snippets", INDEX, COLUMNS):
            op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for statement in fts5_drop_statements(INDEX):
            op.execute(statement)
