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


def _sqlite_statements(table: str, fts: str, columns: tuple[str, ...]) -> list[str]:
    listed = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = f"INSERT INTO {fts}({fts}, rowid, {listed}) VALUES ('delete', old.rowid, {old});"
    insert = f"INSERT INTO {fts}(rowid, {listed}) VALUES (new.rowid, {new});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({listed}, content='{table}', "
        "content_rowid='rowid', tokenize='unicode61')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE ON {table} BEGIN {delete} {insert} END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    for table, (name, columns) in INDEXED.items():
        if dialect in {"mysql", "mariadb"}:
            op.create_index(name, table, list(columns), mysql_prefix="FULLTEXT")
        elif dialect == "sqlite":
            for statement in _sqlite_statements(table, name, columns):
                op.execute(statement)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    for table, (name, _) in INDEXED.items():
        if dialect in {"mysql", "mariadb"}:
            op.drop_index(name, table_name=table)
        elif dialect == "sqlite":
            for suffix in ("_ai", "_ad", "_au"):
                op.execute(f"DROP TRIGGER IF EXISTS {name}{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {name}")
