"""Recall index: memory by project and time, for the newest items and for what a save wrote.

The index the worker keeps reads a project's rows stamped since a moment (what a save just
wrote) and its newest session summaries and decisions; without these indexes both scan the
project's rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("idx_context_snippets_project_updated", "context_snippets", ["project_id", "updated_at"]),
    (
        "idx_conversation_contexts_project_updated",
        "conversation_contexts",
        ["project_id", "updated_at"],
    ),
    ("idx_decision_logs_project_created", "decision_logs", ["project_id", "created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
