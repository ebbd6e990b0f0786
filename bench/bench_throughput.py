"""End to end with two worker processes: sustained small saves per second, each stored exactly
once, and hook-to-committed-row latency (p50, p99), on MariaDB and Redis.

Jobs go through the hook's own write path (spool, then the stdlib publisher); 200 sessions
each receive 5 small deltas, so later saves refresh an existing session's memory. The baseline,
measured in the same run with the same workers, is Celery's bare round trip: as many no-op
``recall.ping`` tasks. Target (issue 4): at least 100 saves per second.

Needs MariaDB on 127.0.0.1:3306 (root, no password) and Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, select, text
from timing import isolate_from_this_machine, percentile

from contextrecall.client.worker_process import worker_command

SESSIONS, DELTAS = 200, 5
TARGET_RATE = 100.0
BROKER = "redis://127.0.0.1:6379/10"
ADMIN = "mysql+pymysql://root@127.0.0.1:3306"


def start_workers(env: dict[str, str], folder: Path) -> list[subprocess.Popen]:
    workers = []
    for i in range(2):
        log = (folder / f"worker{i}.log").open("wb")
        workers.append(
            subprocess.Popen(
                [*worker_command(f"bench{i}@%h"), "--loglevel=WARNING"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    return workers


class Run:
    """What one batch of saves measured."""

    def __init__(
        self, sent: dict[str, float], done: dict[str, float], started: float, produced: float
    ) -> None:
        latencies = [(done[j] - sent[j]) * 1000 for j in done]
        self.offered = len(sent) / produced
        self.rate = len(done) / (max(done.values()) - started)
        self.p50 = statistics.median(latencies)
        self.p99 = percentile(latencies, 99)


def run_saves(settings, folder: Path, rate: float | None) -> Run:
    """SESSIONS x DELTAS small saves through the hook's write path, as fast as possible or at
    ``rate`` per second; waits until each is committed."""
    from contextrecall.client.outbox import publish_spooled, spool_new_deltas
    from contextrecall.db import get_engine
    from contextrecall.models import SavedDelta

    folder.mkdir(parents=True)
    transcripts = [folder / f"s{i}.jsonl" for i in range(SESSIONS)]
    for path in transcripts:
        path.write_text("")
    sent: dict[str, float] = {}
    done: dict[str, float] = {}
    producing = threading.Event()
    producing.set()

    def watch() -> None:
        """Record when each job's row first shows up, while jobs are still being sent."""
        deadline = time.perf_counter() + 600
        with get_engine(settings).connect() as connection:
            while time.perf_counter() < deadline:
                pending = [j for j in list(sent) if j not in done]
                if not pending and not producing.is_set():
                    return
                now = time.perf_counter()
                for chunk in range(0, len(pending), 500):
                    rows = connection.execute(
                        select(SavedDelta.job_id).where(
                            SavedDelta.job_id.in_(pending[chunk : chunk + 500])
                        )
                    )
                    for (job_id,) in rows:
                        done.setdefault(job_id, now)
                connection.commit()
                time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    started = time.perf_counter()
    watcher.start()
    for round_ in range(DELTAS):
        for i, path in enumerate(transcripts):
            if rate is not None:
                pause = started + len(sent) / rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            with path.open("a") as handle:
                line = {
                    "type": "user",
                    "sessionId": f"{folder.name}{i}",
                    "message": {
                        "role": "user",
                        "content": f"step {round_} of task {i}: fix the bug",
                    },
                }
                handle.write(json.dumps(line) + "\n")
            spooled = spool_new_deltas(
                settings,
                transcript=path,
                project={"name": "bench", "identity": "name:bench"},
                machine=None,
                session_external_id=f"{folder.name}{i}",
                source_format="claude",
                event="Stop",
            )
            now = time.perf_counter()
            publish_spooled(settings, spooled)
            for _, job in spooled:
                sent[job["job_id"]] = now
    produced = time.perf_counter() - started
    producing.clear()
    watcher.join()
    return Run(sent, done, started, produced)


def main() -> None:
    isolate_from_this_machine()
    from contextrecall import migrate
    from contextrecall.broker.publish import publish_task
    from contextrecall.db import get_engine
    from contextrecall.settings import Settings

    name = f"recall_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE DATABASE `{name}`"))
    folder = Path(tempfile.mkdtemp())
    env = {
        **os.environ,
        "RECALL_HOME": str(folder / "home"),
        "RECALL_DATABASE_URL": f"{ADMIN}/{name}",
        "RECALL_BROKER_URL": BROKER,
    }
    settings = Settings.from_env(env)
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    migrate.upgrade(settings)
    workers = start_workers(env, folder)
    try:
        time.sleep(4)  # let both workers connect
        # Baseline: bare Celery round trips through the same broker and workers.
        client = redis.Redis.from_url(BROKER)
        started = time.perf_counter()
        for _ in range(SESSIONS * DELTAS):
            publish_task(BROKER, "recall.ping", [], {})
        while client.llen("recall"):
            time.sleep(0.01)
        ping_rate = SESSIONS * DELTAS / (time.perf_counter() - started)

        burst = run_saves(settings, folder / "burst", rate=None)
        paced = run_saves(settings, folder / "paced", rate=TARGET_RATE)
        with get_engine(settings).connect() as connection:
            stored = connection.execute(text("SELECT COUNT(*) FROM saved_deltas")).scalar_one()
            distinct = connection.execute(
                text("SELECT COUNT(DISTINCT session_id, delta_hash) FROM saved_deltas")
            ).scalar_one()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        get_engine(settings).dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        redis.Redis.from_url(BROKER).flushdb()

    sent = 2 * SESSIONS * DELTAS
    once = stored == distinct == sent
    print(f"{'measure':<52}{'burst':>10}{'paced':>10}")
    print(f"{'offered saves/s':<52}{burst.offered:>10.1f}{paced.offered:>10.1f}")
    print(f"{'committed saves/s':<52}{burst.rate:>10.1f}{paced.rate:>10.1f}")
    print(
        f"{'ratio committed saves/s : no-op round trips/s':<52}"
        f"{burst.rate / ping_rate:>10.2f}{paced.rate / ping_rate:>10.2f}"
    )
    print(f"{'latency hook to committed row p50 ms':<52}{burst.p50:>10.1f}{paced.p50:>10.1f}")
    print(f"{'latency hook to committed row p99 ms':<52}{burst.p99:>10.1f}{paced.p99:>10.1f}")
    print(f"no-op round trips/s (baseline, same workers): {ping_rate:.1f}")
    print(f"jobs sent / stored / distinct (session, hash): {sent}/{stored}/{distinct}")
    ok = burst.rate >= TARGET_RATE and paced.rate >= 0.95 * TARGET_RATE and once
    print(
        f"target >= {TARGET_RATE} saves/s sustained, each stored once: "
        f"capacity {burst.rate:.1f}/s, {'PASS' if ok else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
