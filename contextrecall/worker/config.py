"""Celery configuration derived from Settings: one function, no globals."""

from __future__ import annotations

from typing import Any

from contextrecall.settings import Settings

# Redis redelivers an unacknowledged message after this long; every retry delay and time
# limit below stays well under it so a slow task is never handed to a second worker.
VISIBILITY_TIMEOUT = 3600
TASK_TIME_LIMIT = 300
TASK_SOFT_TIME_LIMIT = 240


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery settings for ``settings``: JSON only, late acks, prefetch 1, events on."""
    transport_options: dict[str, Any] = {"visibility_timeout": VISIBILITY_TIMEOUT}
    if settings.broker_url.startswith("filesystem://"):
        queue_dir = settings.broker_dir / "queue"
        processed_dir = settings.broker_dir / "processed"
        for folder in (queue_dir, processed_dir):
            folder.mkdir(parents=True, exist_ok=True)
        transport_options = {
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "processed_folder": str(processed_dir),
            "store_processed": False,
        }
    return {
        "broker_url": settings.broker_url,
        "broker_transport_options": transport_options,
        "broker_connection_retry_on_startup": True,
        "result_backend": None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": TASK_TIME_LIMIT,
        "task_soft_time_limit": TASK_SOFT_TIME_LIMIT,
        "task_send_sent_event": True,
        "worker_send_task_events": True,
        "task_default_queue": "recall",
        "worker_hijack_root_logger": False,
        "enable_utc": True,
        "timezone": "UTC",
    }
