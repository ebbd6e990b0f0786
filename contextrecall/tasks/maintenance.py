"""The beat jobs: thin shells over ``contextrecall.maintenance``.

Each message names its schedule slot; ``runs.run_once`` claims the slot and only the claimant
runs the job, so two beat processes never both run it. The message is acknowledged on receipt
(not late): a redelivered copy could never win the claim anyway, and a lost run is made good by
the next slot, because decay is computed from timestamps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contextrecall.settings import Settings
from contextrecall.tasks.base import RecallTask
from contextrecall.worker.app import app

MAINTENANCE = {
    "base": RecallTask,
    "acks_late": False,
    "reject_on_worker_lost": False,
    "time_limit": 3600,
    "soft_time_limit": 3500,
}


def _run(
    job: str, slot: Any, period: Callable[[Settings], float], body: Callable[[Settings], Any]
) -> dict[str, Any]:
    """Run ``body`` once for ``slot`` (the current one of ``period`` when none is named)."""
    from contextrecall.maintenance import runs
    from contextrecall.maintenance.decay import utc_now
    from contextrecall.settings import get_settings

    settings = get_settings()
    from contextrecall.memory_signals import memory_changed

    claimed = str(slot)[:64] if slot else runs.slot_for(utc_now(), period(settings))
    outcome = runs.run_once(settings, job, claimed, lambda: body(settings))
    # Cleanup removes memory, so the recall indexes are rebuilt after it (daily). Decay only
    # rescores, a little each hour: the indexes take the new scores at their next rebuild.
    if outcome["ran"] and job == "cleanup":
        memory_changed.send(sender=job)
    return outcome


@app.task(name="recall.decay", **MAINTENANCE)
def decay(slot: str | None = None) -> dict[str, Any]:
    """Rescore every memory's relevance from its timestamps (once per slot)."""
    from contextrecall.maintenance.decay import decay as rescore

    return _run("decay", slot, lambda s: s.decay_interval, rescore)


@app.task(name="recall.cleanup", **MAINTENANCE)
def cleanup(slot: str | None = None) -> dict[str, Any]:
    """Apply the retention policy (once per slot)."""
    from contextrecall.maintenance.cleanup import cleanup as apply_retention

    return _run("cleanup", slot, lambda s: s.cleanup_interval, apply_retention)
