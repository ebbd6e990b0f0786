"""Celery configuration derived from Settings: one function, no globals."""

from __future__ import annotations

from typing import Any

from contextrecall.settings import Settings


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery settings for ``settings``: JSON only, late acks, prefetch 1, events on."""
    # Redis redelivers an unacknowledged message after the visibility timeout; the time limits
    # and retry delays stay well under it so a slow task is never handed to a second worker.
    timeout = settings.visibility_timeout
    time_limit = max(5, min(300, timeout // 3))
    transport_options: dict[str, Any] = {
        "visibility_timeout": timeout,
        # Sweep for messages of dead workers every few seconds (Kombu's default, 10 s x a
        # throttle of 10, would leave a killed worker's job waiting for minutes).
        "unacked_restore_interval": max(1, min(10, timeout // 6)),
        "unacked_restore_throttle": 1,
    }
    if settings.broker_url.startswith("filesystem://"):
        queue_dir = settings.broker_dir / "queue"
        processed_dir = settings.broker_dir / "processed"
        for folder in (queue_dir, processed_dir, settings.broker_dir / "control"):
            folder.mkdir(parents=True, exist_ok=True)
        transport_options = {
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "processed_folder": str(processed_dir),
            "control_folder": str(settings.broker_dir / "control"),
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
        "task_time_limit": time_limit,
        "task_soft_time_limit": max(4, int(time_limit * 0.8)),
        "task_send_sent_event": True,
        "worker_send_task_events": True,
        "task_default_queue": "recall",
        "worker_hijack_root_logger": False,
        "enable_utc": True,
        "timezone": "UTC",
    }


def max_retry_delay(settings: Settings) -> int:
    """The longest wait between retries: a small fraction of the visibility timeout."""
    return max(1, min(60, settings.visibility_timeout // 10))
