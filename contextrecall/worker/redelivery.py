"""When Redis hands a job out again: by one clock, the broker's, and never while it runs.

Kombu's Redis transport stamps each message a worker takes with that worker's own clock and
restores the stamps older than the visibility timeout by the restoring worker's clock: a
worker whose clock runs two hours fast parks its jobs for two hours if it dies. Here every
worker reads the time as the broker's (its own clock plus the offset to Redis's ``TIME``,
measured at start-up and again every minute), so stamps and the restore agree.

A save that runs longer than the visibility timeout is kept alive rather than handed to a
second worker: while it runs, its stamp is renewed every third of the timeout. A worker
that dies stops renewing, and its job comes back one timeout later.
"""

from __future__ import annotations

import logging
import threading
import time

from kombu.transport import redis as kombu_redis

from contextrecall.broker.redis_wire import (
    REDIS_SCHEMES,
    RedisAddress,
    RedisWireError,
    resp_command,
)

log = logging.getLogger(__name__)
REMEASURE_SECONDS = 60.0


class BrokerClock:
    """The broker's time, read through the local clock and a measured offset."""

    def __init__(self, broker_url: str) -> None:
        self.address = RedisAddress.parse(broker_url)
        self.offset = 0.0
        self.measured_at = float("-inf")
        self._lock = threading.Lock()

    def measure(self) -> float:
        """Measure the offset to the broker's clock (half the round trip counted); keep the
        last one when the broker does not answer."""
        before = time.time()
        try:
            server = self.address.time(timeout=2.0)
        except RedisWireError as exc:
            log.warning("broker clock: could not read Redis TIME: %s", exc)
            return self.offset
        after = time.time()
        self.offset = server - (before + after) / 2
        self.measured_at = time.monotonic()
        return self.offset

    def __call__(self) -> float:
        if time.monotonic() - self.measured_at > REMEASURE_SECONDS:
            with self._lock:
                if time.monotonic() - self.measured_at > REMEASURE_SECONDS:
                    self.measure()
        return time.time() + self.offset


def use_broker_clock(broker_url: str) -> BrokerClock | None:
    """Make Kombu's Redis transport stamp and restore messages by the broker's clock (its
    ``time`` is used for nothing else); None for other brokers."""
    if not broker_url.startswith(REDIS_SCHEMES):
        return None
    clock = BrokerClock(broker_url)
    clock.measure()
    kombu_redis.time = clock
    return clock


UNACKED_INDEX = "unacked_index"  # Kombu's sorted set of the stamps of unacknowledged messages


class KeepAlive:
    """Renews the unacknowledged stamp of each running task's message (task signals)."""

    def __init__(self, broker_url: str, visibility_timeout: float, clock: BrokerClock) -> None:
        self.address = RedisAddress.parse(broker_url)
        self.every = max(0.5, visibility_timeout / 3)
        self.clock = clock
        self._stops: dict[str, threading.Event] = {}

    def started(self, task_id: str | None = None, task: object = None, **_: object) -> None:
        request = getattr(task, "request", None)
        # Kombu's virtual transports carry the tag in the message properties
        tag = (getattr(request, "properties", None) or {}).get("delivery_tag")
        if not task_id or not tag:
            return
        stop = self._stops[task_id] = threading.Event()
        threading.Thread(
            target=self._renew, args=(str(tag), stop), name="recall-keep-alive", daemon=True
        ).start()

    def finished(self, task_id: str | None = None, **_: object) -> None:
        stop = self._stops.pop(task_id or "", None)
        if stop is not None:
            stop.set()

    def _renew(self, tag: str, stop: threading.Event) -> None:
        while not stop.wait(self.every):
            self.renew(tag)

    def renew(self, tag: str) -> bool:
        """Stamp ``tag`` now, if it is still unacknowledged (``XX``: never re-adds one)."""
        command = resp_command("ZADD", UNACKED_INDEX, "XX", repr(self.clock()), tag)
        try:
            self.address.call([command], timeout=2.0)
        except RedisWireError as exc:
            log.warning("keep-alive of %s failed: %s", tag, exc)
            return False
        return True


def keep_running_tasks_alive(broker_url: str, visibility_timeout: float) -> KeepAlive | None:
    """On a Redis broker, renew running tasks' stamps (connected to the task signals)."""
    from celery.signals import task_postrun, task_prerun

    clock = use_broker_clock(broker_url)
    if clock is None:
        return None
    keeper = KeepAlive(broker_url, visibility_timeout, clock)
    task_prerun.connect(keeper.started, weak=False)
    task_postrun.connect(keeper.finished, weak=False)
    return keeper
