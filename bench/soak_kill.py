"""Soak under a SIGKILL storm: nothing lost, nothing stored twice.

Twenty sessions append lines to their transcripts and run the real hook
(``python -m contextrecall.launcher hook``) after each append, while two workers are
SIGKILLed (the whole process group) every 1 to 3 seconds and restarted. Then the storm stops,
the workers keep running and `recall spool flush` runs until the spool is settled. Every line
of every transcript must then be stored exactly once: the lines each session's stored deltas
hold (decrypted) are compared with the lines written.

    python bench/soak_kill.py                 # Redis broker (db 8), then RabbitMQ; 3 minutes each
    python bench/soak_kill.py --broker redis --saves 1000 --seconds 60

Needs MariaDB on 127.0.0.1:3306 (root, no password), Redis on 127.0.0.1:6379 and RabbitMQ on
127.0.0.1:5672 (guest/guest). Uses the queue ``recall``: run it alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from timing import isolate_from_this_machine

from contextrecall.client.worker_process import worker_command

ADMIN = "mysql+pymysql://root@127.0.0.1:3306"
BROKERS = {
    "redis": "redis://127.0.0.1:6379/8",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
}
SESSIONS = 20


def environment(folder: Path, name: str, database: str, broker: str) -> dict[str, str]:
    """A soak process's environment: this one's, with RECALL_HOME ``folder/name``, the MariaDB
    ``database``, the ``broker``, no autostarted worker, and short resend delays."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECALL_")}
    env.update(
        RECALL_HOME=str(folder / name),
        RECALL_CONFIG=str(folder / "none.env"),
        RECALL_DATABASE_URL=f"{ADMIN}/{database}",
        RECALL_BROKER_URL=broker,
        RECALL_WORKER_AUTOSTART="0",
        RECALL_VISIBILITY_TIMEOUT="30",
        RECALL_SPOOL_RESEND_SECONDS="20",
    )
    return env


def empty_broker(url: str) -> None:
    """Drop whatever an earlier run left in the queue."""
    if url.startswith("redis"):
        import redis

        redis.Redis.from_url(url).flushdb()
        return
    from kombu import Connection

    with Connection(url) as connection, contextlib.suppress(Exception):  # no queue yet
        connection.channel().queue_purge("recall")


class Storm:
    """Two workers, each SIGKILLed with its pool every 1-3 s and started again."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.workers: list[subprocess.Popen] = [self._start(i) for i in range(2)]
        self.kills = 0
        self.raging = threading.Event()

    def _start(self, n: int) -> subprocess.Popen:
        log = (self.folder / f"worker{n}.log").open("ab")
        return subprocess.Popen(
            [*worker_command(f"soak{n}-{uuid.uuid4().hex[:6]}@%h"), "--loglevel=WARNING"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def rage(self) -> None:
        self.raging.set()
        while self.raging.is_set():
            time.sleep(random.uniform(1.0, 3.0))
            if not self.raging.is_set():
                break
            n = random.randrange(len(self.workers))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.workers[n].pid, signal.SIGKILL)
            self.workers[n].wait()
            self.kills += 1
            self.workers[n] = self._start(n)

    def stop(self) -> None:
        for worker in self.workers:
            try:
                os.killpg(worker.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for worker in self.workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)


def line(session: int, n: int) -> str:
    return json.dumps(
        {
            "type": "user",
            "uuid": f"s{session}-l{n}",
            "sessionId": f"soak-{session}",
            "timestamp": "2026-12-01T10:00:00Z",
            "message": {"role": "user", "content": f"session {session} says line {n}"},
        }
    )


Clients = list[tuple[dict[str, str], Path, range]]  # (environment, folder, session numbers)


def drive(clients: Clients, saves: int, seconds: float) -> tuple[dict[int, int], int, int, float]:
    """A thread per session of each client, appending one or two lines then running the
    hook with the client's environment, until at least ``saves`` hooks ran and ``seconds``
    passed; (lines written per session, hooks run, slow hooks, slowest hook seconds)."""
    written = {s: 0 for _, _, sessions in clients for s in sessions}
    ran = [0]
    until = time.monotonic() + seconds
    lock = threading.Lock()
    slow, slowest = [0], [0.0]

    def session(s: int, env: dict[str, str], folder: Path) -> None:
        path = folder / f"soak-{s}.jsonl"
        while True:
            with lock:
                if ran[0] >= saves and time.monotonic() >= until:
                    return
                ran[0] += 1
            extra = random.choice((1, 1, 2))
            with path.open("a") as handle:
                for _ in range(extra):
                    handle.write(line(s, written[s]) + "\n")
                    written[s] += 1
            event = {
                "session_id": f"soak-{s}",
                "transcript_path": str(path),
                "cwd": str(folder),
                "hook_event_name": "Stop",
            }
            started = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "contextrecall.launcher", "hook"],
                input=json.dumps(event),
                env=env,
                capture_output=True,
                text=True,
                timeout=30,
            )
            took = time.monotonic() - started
            with lock:
                slowest[0] = max(slowest[0], took)
                slow[0] += took > 1.5
            if done.returncode != 0:
                raise SystemExit(f"hook exited {done.returncode}: {done.stderr}")
            time.sleep(random.uniform(0, 0.2))

    threads = [
        threading.Thread(target=session, args=(s, env, folder))
        for env, folder, sessions in clients
        for s in sessions
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return written, ran[0], slow[0], slowest[0]


def spool_files(home: Path) -> int:
    spool = home / "spool"
    return sum(len(list(d.glob("*.json"))) for d in (spool, spool / "sending", spool / "sent"))


def stored_lines(settings) -> Counter[str]:
    """How often each line is held across the stored deltas of all sessions."""
    from sqlalchemy import select

    from contextrecall.crypto import associated_data, load_key_ring
    from contextrecall.db import session_scope
    from contextrecall.jobs import TAIL_MARK
    from contextrecall.models import SavedDelta

    ring = load_key_ring(settings)
    held: Counter[str] = Counter()
    with session_scope(settings) as db:
        for row in db.scalars(select(SavedDelta)):
            data = ring.decrypt(
                row.payload, associated_data(row.project_id, row.session_id, "delta")
            )
            held.update(
                json.loads(raw)["uuid"]
                for raw in data.splitlines()
                if raw.strip() and TAIL_MARK not in raw  # a Stop's provisional answer
            )
    return held


def soak(broker: str, saves: int, seconds: float, settle_seconds: float) -> dict[str, object]:
    from contextrecall.migrate import upgrade
    from contextrecall.settings import Settings

    url = BROKERS[broker]
    empty_broker(url)
    database = f"recall_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4"))
    folder = Path(tempfile.mkdtemp(prefix=f"soak-{broker}-"))
    env = environment(folder, "home", database, url)
    settings = Settings.from_env(env)
    upgrade(settings)
    storm = Storm(env, folder)
    killer = threading.Thread(target=storm.rage)
    started = time.monotonic()
    try:
        time.sleep(5)  # the workers up before the first hook
        killer.start()
        written, ran, slow, slowest = drive([(env, folder, range(SESSIONS))], saves, seconds)
        storm.raging.clear()
        killer.join()
        storm_seconds = time.monotonic() - started
        expected = {
            line_id for s, n in written.items() for line_id in (f"s{s}-l{i}" for i in range(n))
        }
        deadline = time.monotonic() + settle_seconds
        while time.monotonic() < deadline:
            subprocess.run(
                [sys.executable, "-m", "contextrecall.cli", "spool", "flush"],
                env=env,
                capture_output=True,
                timeout=120,
            )
            held = stored_lines(settings)
            if spool_files(settings.home) == 0 and set(held) >= expected:
                break
            time.sleep(5)
        held = stored_lines(settings)
    finally:
        storm.raging.clear()
        storm.stop()
        from contextrecall.db import dispose_engines

        dispose_engines()
        with admin.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{database}`"))
    return {
        "broker": broker,
        "hook saves": ran,
        "lines written": len(expected),
        "worker kills": storm.kills,
        "storm seconds": round(storm_seconds),
        "lost": len(expected - set(held)),
        "stored twice": sum(1 for n in held.values() if n > 1),
        "left in spool": spool_files(settings.home),
        "hooks over 1.5 s": slow,
        "slowest hook s": round(slowest, 2),
    }


def soak_main(
    description: str,
    soak: Callable[[str, int, float, float], dict[str, object]],
    failed: Callable[[dict[str, object]], bool],
    target: str,
    seconds: float,
    settle: float,
) -> None:
    """Run ``soak`` on the brokers the command line names, print each result and ``target``
    with PASS or FAIL; exit 1 when any result ``failed``."""
    isolate_from_this_machine()
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--broker", choices=[*BROKERS, "all"], default="all")
    parser.add_argument("--saves", type=int, default=1000, help="hook saves at least")
    parser.add_argument("--seconds", type=float, default=seconds, help="hook seconds at least")
    parser.add_argument("--settle", type=float, default=settle, help="seconds to settle at most")
    args = parser.parse_args()
    brokers = list(BROKERS) if args.broker == "all" else [args.broker]
    bad = False
    for broker in brokers:
        result = soak(broker, args.saves, args.seconds, args.settle)
        print("  ".join(f"{k}: {v}" for k, v in result.items()), flush=True)
        bad |= failed(result)
    print(f"target {target}:", "FAIL" if bad else "PASS")
    raise SystemExit(1 if bad else 0)


def main() -> None:
    soak_main(
        __doc__.splitlines()[0],
        soak,
        lambda result: bool(result["lost"] or result["stored twice"]),
        "0 lost, 0 stored twice",
        seconds=180.0,
        settle=240.0,
    )


if __name__ == "__main__":
    main()
