"""A worker's lifetime on one machine: the ``RECALL_HOME`` lock that tells hooks a worker is
alive (``contextrecall.client.autostart``); for a worker a hook started, exiting once it has had
nothing to do for a while; and for every worker, stopping once it no longer serves the
configuration it started with."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_ready

from contextrecall.client.autostart import LOCK_FD_ENV, PID, open_lock
from contextrecall.settings import Settings

log = logging.getLogger(__name__)


def hold_home_lock(settings: Settings) -> int | None:
    """Hold the worker lock of ``RECALL_HOME`` for the life of this process; its descriptor.

    A worker a hook started inherits the lock, held exclusively, and records its pid (so
    ``recall uninstall`` can stop it); one started by hand shares the lock with any others,
    or runs without it beside an autostarted worker.
    """
    inherited = os.environ.pop(LOCK_FD_ENV, None)
    if inherited is not None:
        fd = int(inherited)
        with open(settings.location(PID), "w", encoding="ascii") as handle:
            handle.write(f"{os.getpid()}\n")
        return fd
    fd = open_lock(settings)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class SpoolSweeper:
    """Delivers the machine's spool every ``every`` seconds: jobs a hook spooled but ran out
    of time to publish (many hooks at once, a slow broker) reach the queue without waiting
    for the next hook; sent jobs the store holds are dropped, those it lacks sent again."""

    def __init__(self, settings: Settings, every: float = 10.0) -> None:
        self.settings, self.every = settings, every

    def start(self, **_: object) -> None:
        threading.Thread(target=self._run, name="recall-spool-sweeper", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self.every)
            self.sweep()

    def sweep(self) -> bool:
        """Deliver and settle the spool now; True when it sent anything."""
        from contextrecall.client.outbox import sweep_spool

        try:
            swept = sweep_spool(self.settings, deadline=time.monotonic() + self.every)
        except Exception as exc:  # the broker may be down for a while: try again later
            log.warning("spool sweep failed: %s", exc)
            return False
        if swept["delivered"] or swept["resent"]:
            log.info("spool: %s", swept)
            return True
        return False

    def connect(self) -> None:
        worker_ready.connect(self.start, weak=False)


class IdleExit:
    """Warm-stops the worker (SIGTERM to itself) after ``seconds`` with no task running and
    no work left (``work_left``: the spool swept once more finds nothing to send).

    Task signals fire in the process that runs the task: this is for the solo pool, which
    is what an autostarted worker uses."""

    def __init__(self, seconds: float, work_left: Callable[[], bool] | None = None) -> None:
        self.seconds = seconds
        self.work_left = work_left  # asked before stopping: True (work found) keeps it up
        self.running = 0
        self.last_activity = time.monotonic()
        self._lock = threading.Lock()

    def started(self, **_: object) -> None:
        with self._lock:
            self.running += 1
            self.last_activity = time.monotonic()

    def finished(self, **_: object) -> None:
        with self._lock:
            self.running = max(0, self.running - 1)
            self.last_activity = time.monotonic()

    def idle_for(self) -> float:
        with self._lock:
            return 0.0 if self.running else time.monotonic() - self.last_activity

    def watch(self, **_: object) -> None:
        """Start the watching thread (on ``worker_ready``: the clock starts when work can)."""
        self.last_activity = time.monotonic()
        threading.Thread(target=self._run, name="recall-idle-exit", daemon=True).start()

    def _run(self) -> None:
        step = max(0.2, min(5.0, self.seconds / 4))
        while True:
            while self.idle_for() < self.seconds:
                time.sleep(step)
            # a hook that ran out of time left its jobs in the spool: deliver them first
            if self.work_left is None or not self.work_left():
                break
            with self._lock:
                self.last_activity = time.monotonic()
        log.info("idle for %.0f s: stopping", self.seconds)
        os.kill(os.getpid(), signal.SIGTERM)

    def connect(self) -> None:
        task_prerun.connect(self.started, weak=False)
        task_postrun.connect(self.finished, weak=False)
        worker_ready.connect(self.watch, weak=False)


class ConfigurationWatch:
    """Warm-stops the worker (SIGTERM to itself, saying why in its log) once it no longer
    serves the configuration it started with: its ``RECALL_HOME`` is gone, its database is
    gone (an SQLite file removed, a MariaDB database dropped), or, for a worker a hook started
    (``follow``), the configuration now names another home, database, broker or key, so the
    next hook starts one with the new settings. Jobs it took meanwhile are left to their
    senders, never confirmed (``tasks.base.RELEASED``)."""

    FOLLOWED = ("home", "database_url", "broker_url", "cache_url", "encryption_key")

    def __init__(self, settings: Settings, follow: bool, every: float = 5.0) -> None:
        self.settings, self.follow, self.every = settings, follow, every
        self.store: str | None = None  # the store it serves, learned when it starts
        self.serving: str | None = None  # the store whose queue it reads
        self.consumer: Any = None
        self.warned = False

    def learn(self) -> None:
        """Which store this worker serves, kept for this ``RECALL_HOME``'s hooks too."""
        from contextrecall.client.own_store import learn_store

        try:
            self.store = learn_store(self.settings)
        except Exception as exc:  # the database down or not made yet: learned later
            (log.debug if self.warned else log.warning)("could not read the store id: %s", exc)
            self.warned = True

    def reason(self) -> str | None:
        """Why this worker should stop now, or None."""
        if not self.settings.home.is_dir():
            return f"RECALL_HOME {self.settings.home} is gone"
        gone = _database_gone(self.settings)
        if gone:
            return gone
        replaced = self._store_replaced()
        if replaced:
            return replaced
        if self.follow:
            try:
                now = Settings.from_env()
            except ValueError as exc:  # a half-written or broken file: keep serving as started
                log.warning("configuration unreadable, still serving as started: %s", exc)
                return None
            changed = [f for f in self.FOLLOWED if getattr(now, f) != getattr(self.settings, f)]
            if changed:
                return "the configuration changed (" + ", ".join(changed) + ")"
        return None

    def _store_replaced(self) -> str | None:
        """Why: the database it reaches is now another store (dropped and made again)."""
        before = self.store
        self.learn()
        self._serve_store()
        if before and self.store and self.store != before:
            return f"the database is now another store ({self.store}, was {before})"
        return None

    def start(self, sender: object = None, **_: object) -> None:
        """On ``worker_ready`` (``sender``: the consumer): read the queue of the store it
        serves, then watch."""
        self.consumer = sender
        self.learn()
        self._serve_store()
        threading.Thread(target=self._run, name="recall-configuration", daemon=True).start()

    def _serve_store(self) -> None:
        """Consume the queue of save jobs for this worker's store once it is known: at once
        on the consumer's own thread, later (the database was down when it started) through
        a remote-control message the consumer handles on its own thread."""
        from contextrecall.broker.config import store_queue

        if self.store is None or self.serving or self.consumer is None:
            return
        queue = store_queue(self.store)
        if threading.current_thread() is threading.main_thread():
            self.consumer.add_task_queue(queue)
        else:
            self.consumer.app.control.add_consumer(
                queue, destination=[self.consumer.hostname], reply=False
            )
        self.serving = self.store
        log.info("taking the save jobs of store %s from queue %s", self.store, queue)

    def _run(self) -> None:
        while True:
            time.sleep(self.every)
            reason = self.reason()
            if reason:
                log.warning("%s: this worker stops taking jobs", reason)
                os.kill(os.getpid(), signal.SIGTERM)
                return

    def connect(self) -> None:
        worker_ready.connect(self.start, weak=False)


def _database_gone(settings: Settings) -> str | None:
    """Why the configured database is gone for good (not merely down), or None."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        path = url.database
        if path and path != ":memory:" and not os.path.exists(path):
            return f"the database file {path} is gone"
        return None
    from sqlalchemy.exc import OperationalError

    from contextrecall.db import get_engine

    try:
        with get_engine(settings).connect():
            return None
    except OperationalError as exc:
        code = getattr(exc.orig, "args", (None,))[0]
        if code == UNKNOWN_DATABASE:
            return f"the database {url.database} is gone"
        return None  # down for a while: tasks retry until it is back
    except Exception:
        return None


UNKNOWN_DATABASE = 1049  # MariaDB / MySQL: the database named does not exist
