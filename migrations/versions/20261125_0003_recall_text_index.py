"""Recall: a FULLTEXT index over snippet titles and content (MariaDB only).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _mariadb() -> bool:
    return op.get_context().dialect.name in {"mysql", "mariadb"}


def upgrade() -> None:
    if _mariadb():
        op.create_index(
            "ft_context_snippets_text",
            "context_snippets",
            ["title", "dense_content"],
            mysql_prefix="FULLTEXT",
        )


def downgrade() -> None:
    if _mariadb():
        op.drop_index("ft_context_snippets_text", table_name="context_snippets")
