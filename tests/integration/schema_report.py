"""The four context tables as the Context Recall migration report describes them.

Transcribed by hand from the report (revision a0dfb0b4373c), independently of the models, so a
drift in either the models or the migrations shows up as a test failure. Each column is
(type, nullable, server default); defaults are written as the report gives them.
"""

from __future__ import annotations

UUID = "CHAR(36)"
TIMESTAMPS = {
    "created_at": ("DATETIME", False, "CURRENT_TIMESTAMP"),
    "updated_at": ("DATETIME", False, "CURRENT_TIMESTAMP"),
}

REPORT: dict[str, dict] = {
    "conversation_contexts": {
        "columns": {
            "id": (UUID, False, None),
            "session_id": (UUID, True, None),
            "project_id": (UUID, True, None),
            "machine_id": (UUID, True, None),
            "context_type": ("VARCHAR(50)", False, None),
            "title": ("VARCHAR(200)", False, None),
            "dense_summary": ("TEXT", True, None),
            "key_decisions": ("TEXT", True, None),
            "current_state": ("TEXT", True, None),
            "tags": ("TEXT", True, None),
            "relevance_score": ("FLOAT", False, "1.0"),
            **TIMESTAMPS,
        },
        "indexes": {
            "idx_conversation_contexts_session": ["session_id"],
            "idx_conversation_contexts_project": ["project_id"],
            "idx_conversation_contexts_machine": ["machine_id"],
            "idx_conversation_contexts_type": ["context_type"],
            "idx_conversation_contexts_relevance": ["relevance_score"],
        },
        "foreign_keys": {
            "session_id": ("sessions", "SET NULL"),
            "project_id": ("projects", "SET NULL"),
            "machine_id": ("machines", "SET NULL"),
        },
        "unique": [],
    },
    "context_snippets": {
        "columns": {
            "id": (UUID, False, None),
            "project_id": (UUID, True, None),
            "client_id": (UUID, True, None),
            "category": ("VARCHAR(100)", False, None),
            "title": ("VARCHAR(200)", False, None),
            "dense_content": ("TEXT", False, None),
            "structured_data": ("TEXT", True, None),
            "tags": ("TEXT", True, None),
            "relevance_score": ("FLOAT", False, "1.0"),
            "usage_count": ("INTEGER", False, "0"),
            **TIMESTAMPS,
        },
        "indexes": {
            "idx_context_snippets_project": ["project_id"],
            "idx_context_snippets_client": ["client_id"],
            "idx_context_snippets_category": ["category"],
            "idx_context_snippets_relevance": ["relevance_score"],
            "idx_context_snippets_usage": ["usage_count"],
        },
        "foreign_keys": {
            "project_id": ("projects", "SET NULL"),
            "client_id": ("clients", "SET NULL"),
        },
        "unique": [],
    },
    "project_states": {
        "columns": {
            "id": (UUID, False, None),
            "project_id": (UUID, False, None),
            "last_session_id": (UUID, True, None),
            "current_phase": ("VARCHAR(100)", True, None),
            "progress_percentage": ("INTEGER", False, "0"),
            "blockers": ("TEXT", True, None),
            "next_actions": ("TEXT", True, None),
            "context_summary": ("TEXT", True, None),
            "key_files": ("TEXT", True, None),
            "important_decisions": ("TEXT", True, None),
            **TIMESTAMPS,
        },
        "indexes": {
            "idx_project_states_project": ["project_id"],
            "idx_project_states_last_session": ["last_session_id"],
            "idx_project_states_progress": ["progress_percentage"],
        },
        "foreign_keys": {
            "project_id": ("projects", "CASCADE"),
            "last_session_id": ("sessions", "SET NULL"),
        },
        "unique": [["project_id"]],
    },
    "decision_logs": {
        "columns": {
            "id": (UUID, False, None),
            "project_id": (UUID, True, None),
            "session_id": (UUID, True, None),
            "decision_type": ("VARCHAR(100)", False, None),
            "impact": ("VARCHAR(50)", False, "medium"),
            "decision_text": ("TEXT", False, None),
            "rationale": ("TEXT", True, None),
            "alternatives_considered": ("TEXT", True, None),
            "tags": ("TEXT", True, None),
            **TIMESTAMPS,
        },
        "indexes": {
            "idx_decision_logs_project": ["project_id"],
            "idx_decision_logs_session": ["session_id"],
            "idx_decision_logs_type": ["decision_type"],
            "idx_decision_logs_impact": ["impact"],
        },
        "foreign_keys": {
            "project_id": ("projects", "SET NULL"),
            "session_id": ("sessions", "SET NULL"),
        },
        "unique": [],
    },
}


# Our additions (DESIGN.md allows added columns, never dropped or retyped ones): the keys that
# make saves idempotent. Listed so that any other unique constraint still fails the test.
ADDED_UNIQUE: dict[str, list[list[str]]] = {
    "conversation_contexts": [["session_id", "context_type"]],
    "context_snippets": [["project_id", "content_hash"]],
    "decision_logs": [["project_id", "content_hash"]],
}
