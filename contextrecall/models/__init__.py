"""SQLAlchemy 2.0 typed models. Importing this package registers every table on ``Base``."""

from contextrecall.models.base import Base, new_uuid
from contextrecall.models.context import (
    ContextSnippet,
    ContextTag,
    ConversationContext,
    DecisionLog,
    ForgottenMemory,
    ProjectState,
)
from contextrecall.models.jobs import FailedJob, SavedDelta, StoreIdentity
from contextrecall.models.maintenance import MaintenanceRun
from contextrecall.models.parents import Client, Machine, Project, Session
from contextrecall.models.terms import TermCount

__all__ = [
    "Base",
    "Client",
    "ContextSnippet",
    "ContextTag",
    "ConversationContext",
    "DecisionLog",
    "FailedJob",
    "ForgottenMemory",
    "Machine",
    "MaintenanceRun",
    "Project",
    "ProjectState",
    "SavedDelta",
    "Session",
    "StoreIdentity",
    "TermCount",
    "new_uuid",
]
