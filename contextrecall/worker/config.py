"""Celery configuration derived from Settings: one function, no globals."""

from __future__ import annotations

from typing import Any

from contextrecall.settings import Settings
from contextrecall.worker.schedule import beat_schedule


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery settings for ``settings``: JSON only (signed, when configured), late acks,
    prefetch 1, events on."""
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
        # Beat keeps no schedule file: slots are aligned to the clock and claimed in the
        # database (contextrecall.maintenance.runs), so any number of beats can run.
        "beat_schedule": beat_schedule(settings),
        "beat_scheduler": "celery.beat:Scheduler",
        **broker_tls(settings),
        **message_signing(settings),
    }


def broker_tls(settings: Settings) -> dict[str, Any]:
    """TLS for a ``rediss://`` broker, verifying the server's certificate by default.

    Kombu falls back to an unverified connection when a rediss:// URL comes without options;
    this never lets it. Options in the URL's query (settings put RECALL_REDIS_TLS_* there)
    take precedence in kombu; these are the same values as Python ``ssl`` constants.
    """
    if not settings.broker_url.startswith("rediss://"):
        return {}
    import ssl

    reqs = (settings.redis_tls_cert_reqs or "required").lower().removeprefix("cert_")
    options: dict[str, Any] = {
        "ssl_cert_reqs": {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL}.get(
            reqs, ssl.CERT_REQUIRED
        ),
        "ssl_ca_certs": settings.redis_tls_ca_certs,
        "ssl_certfile": settings.redis_tls_certfile,
        "ssl_keyfile": settings.redis_tls_keyfile,
    }
    options = {key: value for key, value in options.items() if value is not None}
    # The same options for a Redis result backend, should one ever be configured.
    return {"broker_use_ssl": options, "redis_backend_use_ssl": dict(options)}


def message_signing(settings: Settings) -> dict[str, Any]:
    """Celery's ``auth`` serializer when RECALL_SIGNING_* are set: task and control messages
    are signed with the key and verified against the trusted certificates; anything else,
    plain JSON included, is refused. ``create_app`` then calls ``app.setup_security()``."""
    if not settings.signing_enabled:
        return {}
    missing = [
        name
        for name, value in (
            ("RECALL_SIGNING_KEY", settings.signing_key),
            ("RECALL_SIGNING_CERT", settings.signing_cert),
            ("RECALL_SIGNING_CERTS", settings.signing_certs),
        )
        if not value
    ]
    if missing:
        raise ValueError(f"message signing needs {', '.join(missing)} as well")
    return {
        "task_serializer": "auth",
        "accept_content": ["auth"],
        "result_accept_content": ["json"],
        "security_key": settings.signing_key,
        "security_certificate": settings.signing_cert,
        "security_cert_store": settings.signing_certs,
        "security_digest": "sha256",
    }


def max_retry_delay(settings: Settings) -> int:
    """The longest wait between retries: a small fraction of the visibility timeout."""
    return max(1, min(60, settings.visibility_timeout // 10))
