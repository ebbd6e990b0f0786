"""The retention policy: what cleanup removes, in short batches, or only counts (dry run).

- Memories (session contexts, snippets) older than ``retention_days`` whose relevance fell
  below ``retention_min_relevance``, or whose project is gone (orphans). Decisions and project
  states are kept, whatever their age, as are contexts and snippets of those kinds, and
  whatever a user pinned.
- Orphaned sessions (their project deleted) older than ``retention_days``, with their deltas.
- Failed-job records older than ``failed_job_retention_days``.
- Spool files (jobs never delivered) older than ``spool_retention_days``.

Each batch selects up to ``cleanup_batch`` ids with a lock-free read, then deletes exactly
those ids (the condition re-checked) in its own short transaction.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, false, func, or_, select

from contextrecall.client.spool import SENDING, SENT
from contextrecall.db import session_scope
from contextrecall.maintenance.decay import naive_utc
from contextrecall.models import ContextSnippet, ConversationContext, FailedJob, Session
from contextrecall.settings import Settings

KEPT_KINDS = ("decision", "project_state")  # context types / categories cleanup never removes


@dataclass(frozen=True)
class Rule:
    """Rows of ``table`` matching ``where(settings, now)`` are removed."""

    table: Table
    where: Callable[[Settings, datetime], ColumnElement[bool]]

    @property
    def name(self) -> str:
        return self.table.name


def _memory_cutoff(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(days=settings.retention_days)


def _stale_contexts(settings: Settings, now: datetime) -> ColumnElement[bool]:
    c = ConversationContext.__table__.c
    return and_(
        c.updated_at < _memory_cutoff(settings, now),
        c.context_type.not_in(KEPT_KINDS),
        c.pinned == false(),
        or_(c.relevance_score < settings.retention_min_relevance, c.project_id.is_(None)),
    )


def _stale_snippets(settings: Settings, now: datetime) -> ColumnElement[bool]:
    c = ContextSnippet.__table__.c
    cutoff = _memory_cutoff(settings, now)
    return and_(
        c.updated_at < cutoff,
        or_(c.last_used_at.is_(None), c.last_used_at < cutoff),
        c.category.not_in(KEPT_KINDS),
        c.pinned == false(),
        or_(c.relevance_score < settings.retention_min_relevance, c.project_id.is_(None)),
    )


def _orphaned_sessions(settings: Settings, now: datetime) -> ColumnElement[bool]:
    c = Session.__table__.c
    cutoff = _memory_cutoff(settings, now)
    return and_(
        c.project_id.is_(None),
        c.updated_at < cutoff,
        func.coalesce(c.ended_at, c.updated_at) < cutoff,
    )


def _old_failed_jobs(settings: Settings, now: datetime) -> ColumnElement[bool]:
    cutoff = now - timedelta(days=settings.failed_job_retention_days)
    return FailedJob.__table__.c.created_at < cutoff


RULES = (
    Rule(ConversationContext.__table__, _stale_contexts),
    Rule(ContextSnippet.__table__, _stale_snippets),
    Rule(Session.__table__, _orphaned_sessions),
    Rule(FailedJob.__table__, _old_failed_jobs),
)


def count(settings: Settings, rule: Rule, now: datetime) -> int:
    with session_scope(settings) as db:
        query = select(func.count()).select_from(rule.table).where(rule.where(settings, now))
        return db.scalar(query) or 0


def remove(settings: Settings, rule: Rule, now: datetime, batch: int) -> tuple[int, float]:
    """Delete the rule's rows in batches; returns (rows removed, longest batch in seconds)."""
    table, removed, longest = rule.table, 0, 0.0
    after = ""
    while True:
        condition = rule.where(settings, now)
        with session_scope(settings) as db:
            ids = list(
                db.scalars(
                    select(table.c.id)
                    .where(table.c.id > after, condition)
                    .order_by(table.c.id)
                    .limit(batch)
                )
            )
        if not ids:
            return removed, longest
        started = time.perf_counter()
        with session_scope(settings) as db:
            result = db.execute(delete(table).where(table.c.id.in_(ids), condition))
            removed += max(result.rowcount or 0, 0)
        longest = max(longest, time.perf_counter() - started)
        if len(ids) < batch:
            return removed, longest
        after = ids[-1]


def old_spool_files(settings: Settings, now: datetime) -> list[str]:
    """Spool files (jobs and abandoned temporaries) last written before the spool cutoff."""
    cutoff = (now - timedelta(days=settings.spool_retention_days)).timestamp()
    old = []
    for folder in (settings.spool_dir, settings.spool_dir / SENT, settings.spool_dir / SENDING):
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        old += [
            entry.path
            for entry in entries
            if entry.is_file(follow_symlinks=False)
            and (entry.name.endswith(".json") or entry.name.endswith(".tmp"))
            and entry.stat(follow_symlinks=False).st_mtime < cutoff
        ]
    return old


def cleanup(
    settings: Settings,
    now: datetime | None = None,
    *,
    dry_run: bool = False,
    batch: int | None = None,
) -> dict[str, Any]:
    """Apply the retention policy as of ``now``; with ``dry_run``, only count.

    Returns ``{"removed" | "would_remove": {kind: rows}, "longest_batch_seconds", ...}``.
    """
    moment = naive_utc(now)
    size = batch or settings.cleanup_batch
    counts: dict[str, int] = {}
    longest = 0.0
    for rule in RULES:
        if dry_run:
            counts[rule.name] = count(settings, rule, moment)
        else:
            counts[rule.name], slowest = remove(settings, rule, moment, size)
            longest = max(longest, slowest)
    # The spool's cutoff is wall-clock file time, so it follows ``now`` as given (UTC).
    spool = old_spool_files(settings, moment.replace(tzinfo=UTC))
    if not dry_run:
        for path in spool:
            with suppress(FileNotFoundError):  # delivered meanwhile
                os.unlink(path)
    counts["spool_files"] = len(spool)
    shown = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    if dry_run:
        return {
            "summary": f"would remove {shown}",
            "dry_run": True,
            "now": moment.isoformat(sep=" "),
            "would_remove": counts,
        }
    return {
        "summary": f"removed {shown}",
        "now": moment.isoformat(sep=" "),
        "removed": counts,
        "longest_batch_seconds": round(longest, 3),
    }
