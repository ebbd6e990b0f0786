"""The beat schedule: decay and cleanup, each due at every multiple of its period.

Periods are aligned to the epoch (not to when a beat process started), so every beat process
fires each job for the same slot at the same moment and names that slot in the message; the
task then claims the slot in the database (``maintenance.runs``) and only one of them runs.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from celery.beat import BeatLazyFunc
from celery.schedules import schedstate, schedule

from contextrecall.settings import Settings


class AlignedSchedule(schedule):
    """Due once in each period that starts at a multiple of ``run_every`` since the epoch."""

    def _slots(self, moment: datetime) -> float:
        return self.maybe_make_aware(moment).timestamp() / self.seconds

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        next_start = (math.floor(self._slots(last_run_at)) + 1) * self.seconds
        return timedelta(seconds=next_start - self.maybe_make_aware(self.now()).timestamp())

    def is_due(self, last_run_at: datetime) -> schedstate:
        now = self._slots(self.now())
        until_next = (math.floor(now) + 1 - now) * self.seconds
        return schedstate(math.floor(self._slots(last_run_at)) < math.floor(now), until_next)


def current_slot(period_seconds: float) -> str:
    """The slot beat is firing for: now, truncated to the period (evaluated at send time)."""
    from contextrecall.maintenance.runs import slot_for

    return slot_for(datetime.now(UTC), period_seconds)


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Celery's ``beat_schedule``: each job with its slot; a message not taken within its
    period expires (the next slot catches up, since decay is computed from timestamps)."""
    entries = {}
    for job, period in (("decay", settings.decay_interval), ("cleanup", settings.cleanup_interval)):
        entries[f"recall-{job}"] = {
            "task": f"recall.{job}",
            "schedule": AlignedSchedule(timedelta(seconds=period)),
            "kwargs": {"slot": BeatLazyFunc(current_slot, period)},
            "options": {"expires": max(1.0, period)},
        }
    return entries
