"""`recall worker` as a child process: its command line and the environment that hands it
the parent's settings (the hook's autostart, the demo, the tests and the benchmarks start
workers this way)."""

from __future__ import annotations

import os
import sys

from contextrecall.broker.config import QUEUE
from contextrecall.settings import Settings


def worker_command(
    name: str,
    pool: str = "solo",
    concurrency: int | None = None,
    idle_exit: float | None = None,
) -> list[str]:
    """`recall worker` on the recall queue, named ``name`` (exiting after ``idle_exit``
    seconds without work, when given). Gossip and mingle are off: they only slow the start of
    workers that do not need to know each other."""
    command = [sys.executable, "-m", "contextrecall.cli", "worker"]
    if idle_exit is not None:
        command.append(f"--idle-exit={idle_exit:g}")
    command += ["-Q", QUEUE]
    if concurrency is not None:
        command.append(f"--concurrency={concurrency}")
    return [*command, f"--pool={pool}", "--without-gossip", "--without-mingle", "-n", name]


def child_environment(settings: Settings) -> dict[str, str]:
    """This process's environment with ``settings`` written over it as RECALL_* variables, for
    a worker or a hook started as a child. The parent manages its workers, so such a hook
    starts none of its own (``client.autostart``)."""
    env = {
        **os.environ,
        "RECALL_WORKER_AUTOSTART": "0",
        "RECALL_HOME": str(settings.home),
        "RECALL_DATABASE_URL": settings.database_url,
        "RECALL_BROKER_URL": settings.broker_url,
        "RECALL_VISIBILITY_TIMEOUT": str(settings.visibility_timeout),
        "RECALL_SPOOL_RESEND_SECONDS": str(settings.spool_resend_seconds),
        "RECALL_INDEX_CHECK_SECONDS": str(settings.index_check_seconds),
    }
    optional = {
        "RECALL_CACHE_URL": settings.cache_url,
        "RECALL_ENCRYPTION_KEY": settings.encryption_key,
        "RECALL_SIGNING_KEY": settings.signing_key,
        "RECALL_SIGNING_CERT": settings.signing_cert,
        "RECALL_SIGNING_CERTS": settings.signing_certs,
    }
    env.update({name: value for name, value in optional.items() if value})
    return env
