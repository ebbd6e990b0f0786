"""Worker lifecycle: the broker's clock for redelivery, fresh database connections after
fork, spool delivery at start-up."""

from __future__ import annotations

import logging
import time

from celery.signals import worker_init, worker_process_init, worker_ready

log = logging.getLogger(__name__)


@worker_init.connect
def _broker_clock(**_: object) -> None:
    # Redelivery stamps and restores by the Redis broker's clock, not each worker's own.
    from contextrecall.settings import get_settings
    from contextrecall.worker.broker_clock import use_broker_clock

    use_broker_clock(get_settings().broker_url)


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
