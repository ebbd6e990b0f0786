"""Per-project document frequencies of snippet terms, so search can skip common words."""

from __future__ import annotations

from sqlalchemy import CHAR, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from contextrecall.models.base import Base


class TermCount(Base):
    """How many of a project's snippets hold ``term`` (a stemmed content word).

    Counted when a snippet is first stored and never decremented, so after a cleanup it is an
    upper bound: search uses it only to pick the rarer query words and to weight them.
    """

    __tablename__ = "term_counts"

    project_id: Mapped[str] = mapped_column(
        CHAR(36), ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    documents: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
