"""Recall: term counts recomputed for the Snowball stemmer.

The ranking now stems with Snowball (Porter 2), so the per-project document frequencies
kept under the old stems are counted again from the stored snippets, in batches.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 18:10:00
"""

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _recount() -> None:
    from contextrecall.migrate import batches
    from contextrecall.terms import TOTAL_TERM, counted_terms

    bind = op.get_bind()
    snippets = sa.table(
        "context_snippets",
        sa.column("id"),
        sa.column("project_id"),
        sa.column("title"),
        sa.column("dense_content"),
    )
    counts = sa.table(
        "term_counts", sa.column("project_id"), sa.column("term"), sa.column("documents")
    )
    bind.execute(counts.delete())
    totals: dict[str, Counter[str]] = {}
    statement = sa.select(
        snippets.c.id, snippets.c.project_id, snippets.c.title, snippets.c.dense_content
    ).where(snippets.c.project_id.is_not(None))
    for rows in batches(bind, statement, snippets.c.id, BATCH):
        for row in rows:
            documents = totals.setdefault(row.project_id, Counter())
            documents[TOTAL_TERM] += 1
            documents.update(counted_terms(row.title, row.dense_content))
    for project_id, documents in totals.items():
        values = [
            {"project_id": project_id, "term": term, "documents": number}
            for term, number in sorted(documents.items())
        ]
        for start in range(0, len(values), BATCH):
            bind.execute(counts.insert(), values[start : start + BATCH])


def upgrade() -> None:
    _recount()


def downgrade() -> None:
    # The old stems are gone with the old stemmer: the counts stay as they are (an upper
    # bound used to pick and weight words, never to decide what exists).
    pass
