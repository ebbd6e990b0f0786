"""Recall: text indexes over decisions and session summaries, so search reaches all of them.

Search ranked only the latest 500 decisions and 200 session summaries; a project worked on
for years lost its oldest decisions to search. These indexes find the older ones by their
words: FULLTEXT on MariaDB; on SQLite, FTS5 tables kept in step with their rows by triggers
(external content: the text is not stored twice).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:20:00
"""

from collections.abc import Sequence

from alembic import op

from contextrecall.migrate import fts5_drop_statements, fts5_statements

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table: (its FTS5 table or FULLTEXT index name, the columns indexed)
INDEXED = {
    "decision_logs": (
        "ft_decision_logs_text",
        ("decision_text", "rationale", "alternatives_considered"),
    ),
    "conversation_contexts": ("ft_conversation_contexts_text", ("title", "dense_summary")),
}


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    for table, (name, columns) in INDEXED.items():
        if dialect in {"mysql", "mariadb"}:
            op.create_index(name, table, list(columns), mysql_prefix="FULLTEXT")
        elif dialect == "sqlite":
            for statement in fts5_statements(table, name, columns):
                op.execute(statement)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    for table, (name, _) in INDEXED.items():
        if dialect in {"mysql", "mariadb"}:
            op.drop_index(name, table_name=table)
        elif dialect == "sqlite":
            for statement in fts5_drop_statements(name):
                op.execute(statement)
