"""Redelivery by one clock: a worker whose own clock is two hours fast still stamps the jobs
it takes, and restores those of dead workers, by the Redis broker's clock."""

from __future__ import annotations

import time

from kombu.transport import redis as kombu_redis

from contextrecall.broker.redis_wire import RedisAddress
from contextrecall.worker.redelivery import use_broker_clock


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


def test_a_running_task_keeps_its_claim_fresh_and_a_finished_one_stops(redis_url):
    from types import SimpleNamespace

    import redis

    from contextrecall.worker.redelivery import UNACKED_INDEX, BrokerClock, KeepAlive

    url = redis_url.rsplit("/", 1)[0] + "/3"  # a database no other test uses
    index = redis.Redis.from_url(url)
    index.delete(UNACKED_INDEX)
    old = time.time() - 1000
    index.zadd(UNACKED_INDEX, {"tag-1": old})
    clock = BrokerClock(url)
    clock.measure()
    keeper = KeepAlive(url, visibility_timeout=1.5, clock=clock)  # renews every 0.5 s
    task = SimpleNamespace(request=SimpleNamespace(properties={"delivery_tag": "tag-1"}))
    keeper.started(task_id="t1", task=task)
    time.sleep(1.3)
    assert index.zscore(UNACKED_INDEX, "tag-1") > time.time() - 5  # not redelivered
    keeper.finished(task_id="t1")
    index.zadd(UNACKED_INDEX, {"tag-1": old})
    time.sleep(1.3)
    assert index.zscore(UNACKED_INDEX, "tag-1") == old  # a dead or done task renews nothing
    assert (
        keeper.renew("acked-meanwhile") and index.zscore(UNACKED_INDEX, "acked-meanwhile") is None
    )
    index.delete(UNACKED_INDEX)
