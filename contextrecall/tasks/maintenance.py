"""The beat jobs: thin shells over ``contextrecall.maintenance``.

Each message names its schedule slot; ``runs.run_once`` claims the slot and only the claimant
runs the job, so two beat processes never both run it. The message is acknowledged on receipt
(not late): a redelivered copy could never win the claim anyway, and a lost run is made good by
the next slot, because decay is computed from timestamps.
"""

from __future__ import annotations

from typing import Any

from contextrecall.tasks.base import RecallTask
from contextrecall.worker.app import app

MAINTENANCE = {
    "base": RecallTask,
    "acks_late": False,
    "reject_on_worker_lost": False,
    "time_limit": 3600,
    "soft_time_limit": 3500,
}


def _run(job: str, slot: Any) -> dict[str, Any]:
    from contextrecall.maintenance import cleanup, decay, runs
    from contextrecall.settings import get_settings

    settings = get_settings()
    period = settings.decay_interval if job == "decay" else settings.cleanup_interval
    claimed = str(slot)[:64] if slot else runs.slot_for(decay.utc_now(), period)
    if job == "decay":
        return runs.run_once(settings, job, claimed, lambda: decay.decay(settings))
    return runs.run_once(settings, job, claimed, lambda: cleanup.cleanup(settings))


@app.task(name="recall.decay", **MAINTENANCE)
def decay(slot: str | None = None) -> dict[str, Any]:
    """Rescore every memory's relevance from its timestamps (once per slot)."""
    return _run("decay", slot)


@app.task(name="recall.cleanup", **MAINTENANCE)
def cleanup(slot: str | None = None) -> dict[str, Any]:
    """Apply the retention policy (once per slot)."""
    return _run("cleanup", slot)
