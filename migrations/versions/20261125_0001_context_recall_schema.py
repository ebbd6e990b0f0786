"""The context recall schema: parents, the four context tables and the tag index.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 12:20:46.036716
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_clients_name")),
    )
    op.create_table(
        "machines",
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=100), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machines")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_machines_fingerprint")),
    )
    op.create_table(
        "projects",
        sa.Column("client_id", sa.CHAR(length=36), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("identity", sa.String(length=512), nullable=False),
        sa.Column("git_remote", sa.String(length=512), nullable=True),
        sa.Column("root_path", sa.String(length=1024), nullable=True),
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_projects_client_id_clients"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("identity", name=op.f("uq_projects_identity")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
    )
    op.create_index("idx_projects_client", "projects", ["client_id"], unique=False)
    op.create_table(
        "context_snippets",
        sa.Column("project_id", sa.CHAR(length=36), nullable=True),
        sa.Column("client_id", sa.CHAR(length=36), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("dense_content", sa.Text(), nullable=False),
        sa.Column("structured_data", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("relevance_score", sa.Float(), server_default="1.0", nullable=False),
        sa.Column("usage_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_context_snippets_client_id_clients"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_context_snippets_project_id_projects"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_snippets")),
    )
    op.create_index("idx_context_snippets_category", "context_snippets", ["category"], unique=False)
    op.create_index("idx_context_snippets_client", "context_snippets", ["client_id"], unique=False)
    op.create_index(
        "idx_context_snippets_project", "context_snippets", ["project_id"], unique=False
    )
    op.create_index(
        "idx_context_snippets_relevance", "context_snippets", ["relevance_score"], unique=False
    )
    op.create_index("idx_context_snippets_usage", "context_snippets", ["usage_count"], unique=False)
    op.create_table(
        "sessions",
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.CHAR(length=36), nullable=True),
        sa.Column("machine_id", sa.CHAR(length=36), nullable=True),
        sa.Column("source_format", sa.String(length=20), nullable=False),
        sa.Column("git_branch", sa.String(length=255), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["machines.id"],
            name=op.f("fk_sessions_machine_id_machines"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_sessions_project_id_projects"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("project_id", "external_id", name="uq_sessions_project_external"),
    )
    op.create_index("idx_sessions_external", "sessions", ["external_id"], unique=False)
    op.create_index("idx_sessions_machine", "sessions", ["machine_id"], unique=False)
    op.create_table(
        "conversation_contexts",
        sa.Column("session_id", sa.CHAR(length=36), nullable=True),
        sa.Column("project_id", sa.CHAR(length=36), nullable=True),
        sa.Column("machine_id", sa.CHAR(length=36), nullable=True),
        sa.Column("context_type", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("dense_summary", sa.Text(), nullable=True),
        sa.Column("key_decisions", sa.Text(), nullable=True),
        sa.Column("current_state", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("relevance_score", sa.Float(), server_default="1.0", nullable=False),
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["machines.id"],
            name=op.f("fk_conversation_contexts_machine_id_machines"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_conversation_contexts_project_id_projects"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_conversation_contexts_session_id_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_contexts")),
    )
    op.create_index(
        "idx_conversation_contexts_machine", "conversation_contexts", ["machine_id"], unique=False
    )
    op.create_index(
        "idx_conversation_contexts_project", "conversation_contexts", ["project_id"], unique=False
    )
    op.create_index(
        "idx_conversation_contexts_relevance",
        "conversation_contexts",
        ["relevance_score"],
        unique=False,
    )
    op.create_index(
        "idx_conversation_contexts_session", "conversation_contexts", ["session_id"], unique=False
    )
    op.create_index(
        "idx_conversation_contexts_type", "conversation_contexts", ["context_type"], unique=False
    )
    op.create_table(
        "decision_logs",
        sa.Column("project_id", sa.CHAR(length=36), nullable=True),
        sa.Column("session_id", sa.CHAR(length=36), nullable=True),
        sa.Column("decision_type", sa.String(length=100), nullable=False),
        sa.Column("impact", sa.String(length=50), server_default="medium", nullable=False),
        sa.Column("decision_text", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("alternatives_considered", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_decision_logs_project_id_projects"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_decision_logs_session_id_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_logs")),
    )
    op.create_index("idx_decision_logs_impact", "decision_logs", ["impact"], unique=False)
    op.create_index("idx_decision_logs_project", "decision_logs", ["project_id"], unique=False)
    op.create_index("idx_decision_logs_session", "decision_logs", ["session_id"], unique=False)
    op.create_index("idx_decision_logs_type", "decision_logs", ["decision_type"], unique=False)
    op.create_table(
        "project_states",
        sa.Column("project_id", sa.CHAR(length=36), nullable=False),
        sa.Column("last_session_id", sa.CHAR(length=36), nullable=True),
        sa.Column("current_phase", sa.String(length=100), nullable=True),
        sa.Column("progress_percentage", sa.Integer(), server_default="0", nullable=False),
        sa.Column("blockers", sa.Text(), nullable=True),
        sa.Column("next_actions", sa.Text(), nullable=True),
        sa.Column("context_summary", sa.Text(), nullable=True),
        sa.Column("key_files", sa.Text(), nullable=True),
        sa.Column("important_decisions", sa.Text(), nullable=True),
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["last_session_id"],
            ["sessions.id"],
            name=op.f("fk_project_states_last_session_id_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_states_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_states")),
        sa.UniqueConstraint("project_id", name=op.f("uq_project_states_project_id")),
    )
    op.create_index(
        "idx_project_states_last_session", "project_states", ["last_session_id"], unique=False
    )
    op.create_index(
        "idx_project_states_progress", "project_states", ["progress_percentage"], unique=False
    )
    op.create_index("idx_project_states_project", "project_states", ["project_id"], unique=False)
    op.create_table(
        "context_tags",
        sa.Column("project_id", sa.CHAR(length=36), nullable=True),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("context_id", sa.CHAR(length=36), nullable=True),
        sa.Column("snippet_id", sa.CHAR(length=36), nullable=True),
        sa.Column("decision_id", sa.CHAR(length=36), nullable=True),
        sa.Column("id", sa.CHAR(length=36), nullable=False),
        sa.CheckConstraint(
            "(context_id IS NOT NULL) + (snippet_id IS NOT NULL) + (decision_id IS NOT NULL) = 1",
            name=op.f("ck_context_tags_one_item"),
        ),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["conversation_contexts.id"],
            name=op.f("fk_context_tags_context_id_conversation_contexts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decision_logs.id"],
            name=op.f("fk_context_tags_decision_id_decision_logs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_context_tags_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["snippet_id"],
            ["context_snippets.id"],
            name=op.f("fk_context_tags_snippet_id_context_snippets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_tags")),
    )
    op.create_index("idx_context_tags_context", "context_tags", ["context_id"], unique=False)
    op.create_index("idx_context_tags_decision", "context_tags", ["decision_id"], unique=False)
    op.create_index(
        "idx_context_tags_project_tag", "context_tags", ["project_id", "tag"], unique=False
    )
    op.create_index("idx_context_tags_snippet", "context_tags", ["snippet_id"], unique=False)
    op.create_index("idx_context_tags_tag", "context_tags", ["tag"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes; MariaDB refuses to drop an index a foreign key uses.
    op.drop_table("context_tags")
    op.drop_table("project_states")
    op.drop_table("decision_logs")
    op.drop_table("conversation_contexts")
    op.drop_table("sessions")
    op.drop_table("context_snippets")
    op.drop_table("projects")
    op.drop_table("machines")
    op.drop_table("clients")
