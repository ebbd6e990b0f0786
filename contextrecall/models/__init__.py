"""SQLAlchemy 2.0 typed models. Importing this package registers every table on ``Base``."""

from contextrecall.models.base import Base, new_uuid
from contextrecall.models.context import (
    ContextSnippet,
    ContextTag,
    ConversationContext,
    DecisionLog,
    ProjectState,
)
from contextrecall.models.parents import Client, Machine, Project, Session

__all__ = [
    "Base",
    "Client",
    "ContextSnippet",
    "ContextTag",
    "ConversationContext",
    "DecisionLog",
    "Machine",
    "Project",
    "ProjectState",
    "Session",
    "new_uuid",
]
