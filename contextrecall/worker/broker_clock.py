"""Redelivery timed by one clock, the Redis broker's.

Kombu's Redis transport stamps each message a worker takes with that worker's own clock and
restores the stamps older than the visibility timeout by the restoring worker's clock: a
worker whose clock runs two hours fast parks its jobs for two hours if it dies. Here every
worker reads the time as the broker's (its own clock plus the offset to Redis's ``TIME``,
measured at start-up and again every minute), so stamps and the restore agree.
"""

from __future__ import annotations

import logging
import threading
import time

from kombu.transport import redis as kombu_redis

from contextrecall.broker.redis_wire import RedisAddress, RedisWireError

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
    if not broker_url.startswith(("redis://", "rediss://")):
        return None
    clock = BrokerClock(broker_url)
    clock.measure()
    kombu_redis.time = clock
    return clock
