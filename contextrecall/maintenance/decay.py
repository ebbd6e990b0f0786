"""Relevance decay over the database: the formula of ``maintenance.relevance`` written as SQL,
applied with one UPDATE per primary-key range so each batch holds its locks briefly.

A run rewrites only rows whose rounded score changed (by at least half a STEP, which also
absorbs MariaDB's single-precision FLOAT): the first run after a long pause touches every row,
an hourly run only the rows that moved. It never touches ``updated_at``, the decay's own input.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, case, false, func, literal, update
from sqlalchemy.orm import Session

from contextrecall.db import session_scope
from contextrecall.dialect import (
    days_since,
    ensure_math_functions,
    greatest,
    least,
    spaced_keys,
)
from contextrecall.maintenance import relevance
from contextrecall.models import ContextSnippet, ConversationContext
from contextrecall.settings import Settings


@dataclass(frozen=True)
class Decayed:
    """A table whose ``relevance_score`` decays, and the columns the formula reads."""

    table: Table
    kind: str  # the column naming the memory's kind (half-life)
    last_used: str | None = None  # reinforcement besides updated_at
    uses: str | None = None

    @property
    def name(self) -> str:
        return self.table.name


CONTEXTS = Decayed(ConversationContext.__table__, kind="context_type")
SNIPPETS = Decayed(
    ContextSnippet.__table__, kind="category", last_used="last_used_at", uses="usage_count"
)
TARGETS = (CONTEXTS, SNIPPETS)


def utc_now() -> datetime:
    """Now as the naive UTC datetime the tables store."""
    return datetime.now(UTC).replace(tzinfo=None)


def naive_utc(moment: datetime | None) -> datetime:
    if moment is None:
        return utc_now()
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def score_sql(db: Session, target: Decayed, now: datetime, *, rounded: bool = True) -> Any:
    """SQL computing ``relevance.relevance`` (or, unrounded, ``raw_relevance``) per row."""
    c = target.table.c
    reinforced = c.updated_at
    if target.last_used:
        reinforced = greatest(db, c.updated_at, func.coalesce(c[target.last_used], c.updated_at))
    age = greatest(db, days_since(db, reinforced, now), literal(0.0))
    rate = case(
        {kind: relevance.decay_rate(kind) for kind in relevance.HALF_LIFE_DAYS},
        value=c[target.kind],
        else_=relevance.decay_rate(None),
    )
    raw = c.importance * func.exp(-age * rate)
    if target.uses:
        raw = raw * (1.0 + relevance.USE_BOOST * func.ln(1 + c[target.uses]))
    if not rounded:
        return raw
    clamped = least(db, literal(relevance.CEILING), greatest(db, literal(relevance.FLOOR), raw))
    return func.round(clamped, relevance.DIGITS)


def decay_table(
    settings: Settings, target: Decayed, now: datetime, batch: int
) -> tuple[int, int, float]:
    """Rescore one table; returns (rows written, batches, longest batch in seconds)."""
    table = target.table
    with session_scope(settings) as db:
        bounds = spaced_keys(db, table.c.id, batch)  # a plain read: no locks
    ranges = zip([None, *bounds], [*bounds, None], strict=True)
    written, longest = 0, 0.0
    for after, upto in ranges:  # rows added meanwhile still fall in some range
        started = time.perf_counter()
        with session_scope(settings) as db:
            ensure_math_functions(db)
            new = score_sql(db, target, now)
            where = [
                func.abs(table.c.relevance_score - new) >= relevance.STEP / 2,
                table.c.pinned == false(),  # a pinned memory keeps its full relevance
            ]
            if after is not None:
                where.append(table.c.id > after)
            if upto is not None:
                where.append(table.c.id <= upto)
            result = db.execute(
                update(table)
                .where(*where)
                .values(relevance_score=new, updated_at=table.c.updated_at)
                .execution_options(synchronize_session=False)
            )
            written += max(result.rowcount or 0, 0)
        longest = max(longest, time.perf_counter() - started)
    return written, len(bounds) + 1, longest


def decay(settings: Settings, now: datetime | None = None, batch: int | None = None) -> dict:
    """Rescore every memory from its timestamps as of ``now`` (default: the clock)."""
    moment = naive_utc(now)
    size = batch or settings.decay_batch
    rows: dict[str, int] = {}
    batches, longest = 0, 0.0
    for target in TARGETS:
        written, count, slowest = decay_table(settings, target, moment, size)
        rows[target.name] = written
        batches += count
        longest = max(longest, slowest)
    shown = ", ".join(f"{n} {name}" for name, n in rows.items())
    return {
        "summary": f"rescored {shown} in {batches} batch(es)",
        "now": moment.isoformat(sep=" "),
        "rescored": rows,
        "batches": batches,
        "longest_batch_seconds": round(longest, 3),
    }
