"""Counting uses: recall reports which snippets it showed, and they stay relevant longer."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session as DBSession

from contextrecall.models import ContextSnippet
from contextrecall.store.parents import utc_now


def count_uses(db: DBSession, snippet_ids: Sequence[str]) -> None:
    """One more use, and a fresh last-used time, for each of ``snippet_ids``."""
    if not snippet_ids:
        return
    db.execute(
        update(ContextSnippet)
        .where(ContextSnippet.id.in_(list(snippet_ids)))
        .values(usage_count=ContextSnippet.usage_count + 1, last_used_at=utc_now())
    )
