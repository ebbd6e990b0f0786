"""Redelivery by one clock: a worker whose own clock is two hours fast still stamps the jobs
it takes, and restores those of dead workers, by the Redis broker's clock."""

from __future__ import annotations

import time

from kombu.transport import redis as kombu_redis

from contextrecall.broker.redis_wire import RedisAddress
from contextrecall.worker.broker_clock import use_broker_clock


def test_a_worker_with_a_fast_clock_stamps_and_restores_by_the_brokers(redis_url, monkeypatch):
    real = time.time

    def fast() -> float:
        return real() + 7200  # this worker's clock runs two hours fast

    monkeypatch.setattr(time, "time", fast)
    monkeypatch.setattr(kombu_redis, "time", fast)  # what Kombu would stamp by
    server = RedisAddress.parse(redis_url).time(timeout=2)
    assert kombu_redis.time() - server > 7000
    clock = use_broker_clock(redis_url)
    assert clock is not None and abs(clock.offset + 7200) < 1
    server = RedisAddress.parse(redis_url).time(timeout=2)
    assert abs(kombu_redis.time() - server) < 1  # what Kombu stamps and restores by now
    assert use_broker_clock("amqp://guest:guest@127.0.0.1:5672//") is None
