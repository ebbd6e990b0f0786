"""The worker's Celery configuration: the broker's messaging settings plus late acks,
prefetch 1, time limits, events and the beat schedule. One function, no globals."""

from __future__ import annotations

from typing import Any

from contextrecall.broker.config import messaging_config
from contextrecall.settings import Settings
from contextrecall.worker.schedule import beat_schedule

TASK_TIME_LIMIT = 600  # seconds: a save of a huge session, far beyond a typical one second


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery settings for ``settings``: JSON only (signed, when configured), late acks,
    prefetch 1, events on."""
    # Redis redelivers an unacknowledged message after the visibility timeout; a running task
    # keeps its message's stamp fresh (worker.redelivery), so the time limit need not fit
    # under it. Retry delays do: a task waiting for its retry is not running.
    return {
        **messaging_config(settings),
        "broker_connection_retry_on_startup": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": TASK_TIME_LIMIT,
        "task_soft_time_limit": int(TASK_TIME_LIMIT * 0.8),
        "worker_send_task_events": True,
        "worker_hijack_root_logger": False,
        # Beat keeps no schedule file: slots are aligned to the clock and claimed in the
        # database (contextrecall.maintenance.runs), so any number of beats can run.
        "beat_schedule": beat_schedule(settings),
        "beat_scheduler": "celery.beat:Scheduler",
    }


def max_retry_delay(settings: Settings) -> int:
    """The longest wait between retries: a small fraction of the visibility timeout."""
    return max(1, min(60, settings.visibility_timeout // 10))
