"""What every process that talks to the broker agrees on: the queue, JSON-only (or signed)
messages, transport options and TLS. Publishers build a sending-only Celery app from it;
the worker's configuration (``contextrecall.worker.config``) adds its own on top."""

from __future__ import annotations

TYPE_CHECKING = False  # the hook imports QUEUE from here: no typing, no Celery at import
if TYPE_CHECKING:
    from typing import Any

    from celery import Celery

    from contextrecall.settings import Settings

QUEUE = "recall"  # the queue every task goes to, but save jobs for a known store


def store_queue(store: str | None) -> str:
    """The queue of save jobs for ``store``, which only its workers read (``QUEUE`` for a
    job whose client does not know its store yet): on a broker several stores share, a
    worker never even sees another store's jobs."""
    return f"{QUEUE}.{store}" if store else QUEUE


def messaging_config(settings: Settings) -> dict[str, Any]:
    """Celery settings for sending and receiving: broker, transport options, JSON only
    (signed, when configured), no results."""
    timeout = settings.visibility_timeout
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
        "result_backend": None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_send_sent_event": True,
        "task_default_queue": QUEUE,
        "enable_utc": True,
        "timezone": "UTC",
        **broker_tls(settings),
        **message_signing(settings),
    }


def sender_app(settings: Settings) -> Celery:
    """A Celery app that only sends: no tasks, no worker signals, not the current app."""
    from celery import Celery

    app = Celery("contextrecall", set_as_current=False)
    app.conf.update(messaging_config(settings))
    if settings.signing_enabled:
        app.setup_security(allowed_serializers=["json"])
    return app


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
