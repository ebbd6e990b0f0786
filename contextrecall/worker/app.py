"""The one place that builds the Celery app."""

from __future__ import annotations

from celery import Celery

from contextrecall.settings import Settings, get_settings
from contextrecall.worker.config import celery_config

TASK_MODULES = ["contextrecall.tasks", "contextrecall.recall.index.keeper"]  # listens to saves


def create_app(settings: Settings | None = None) -> Celery:
    """A Celery app configured from ``settings`` (default: the environment)."""
    settings = settings or get_settings()
    app = Celery("contextrecall", set_as_current=True)
    app.conf.update(celery_config(settings))
    app.conf.update(include=TASK_MODULES)
    if settings.signing_enabled:
        # Registers the auth serializer from the security_* settings and disables every
        # decoder but JSON (events stay JSON); tasks then need a valid signature.
        app.setup_security(allowed_serializers=["json"])
    import contextrecall.worker.signals  # noqa: F401  (connects the lifecycle handlers)

    return app


app = create_app()
