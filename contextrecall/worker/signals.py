"""Worker lifecycle: redelivery by the broker's clock and never of a running task, fresh
database connections after fork, spool delivery at start-up."""

from __future__ import annotations

import logging
import time

from celery.signals import worker_init, worker_process_init, worker_ready

log = logging.getLogger(__name__)


@worker_init.connect
def _redelivery(**_: object) -> None:
    # Redelivery by the Redis broker's clock, and never of a task still running.
    from contextrecall.settings import get_settings
    from contextrecall.worker.redelivery import keep_running_tasks_alive

    settings = get_settings()
    keep_running_tasks_alive(settings.broker_url, settings.visibility_timeout)


@worker_process_init.connect
def _fresh_connections(**_: object) -> None:
    # A forked child must not share its parent's pooled sockets.
    from contextrecall.db import dispose_engines

    dispose_engines()


@worker_ready.connect
def _deliver_spool(**_: object) -> None:
    from contextrecall.client.outbox import sweep_spool
    from contextrecall.settings import get_settings

    try:
        swept = sweep_spool(get_settings(), deadline=time.monotonic() + 30)
    except Exception as exc:
        log.warning("spool flush at start-up failed: %s", exc)
        return
    if any(swept.values()):
        log.info("spool: %s", swept)
