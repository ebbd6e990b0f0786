"""Soak with two stores on one broker: every session stored once, in its own store only.

Two teams share one broker. Each has its own store (a MariaDB database) and its own key ring;
each runs a worker and ten sessions whose real hook (``python -m contextrecall.launcher hook``)
runs after every append. A third worker still runs a stale configuration: an old database,
and team A's key ring from before the rotation. Midway both teams rotate their key: team A
on its clients first and on its worker 15 s later, team B on its worker first and on its
clients 15 s later, with saves in flight. Then the hooks stop and `recall spool flush` runs
for each team until its spool is settled. Every line must be held exactly once, in its own
team's store (checked line by line in the decrypted deltas), and nothing in the old one.

    python bench/soak_stores.py                 # Redis broker (db 8), then RabbitMQ
    python bench/soak_stores.py --broker redis --saves 600 --seconds 90

Needs MariaDB on 127.0.0.1:3306 (root, no password), Redis on 127.0.0.1:6379 and RabbitMQ on
127.0.0.1:5672 (guest/guest). Uses the queue ``recall``: run it alone.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from soak_kill import (
    ADMIN,
    BROKERS,
    drive,
    empty_broker,
    environment,
    soak_main,
    spool_files,
    stored_lines,
)
from sqlalchemy import create_engine, text

from contextrecall.client.worker_process import worker_command
from contextrecall.crypto import generate_key
from contextrecall.jobs import LEFT_JOBS

TEAMS = {"a": range(0, 10), "b": range(10, 20)}
ROTATION_LAG = 15.0  # seconds between a rotation's first side and its second


def write_key_file(home: Path, *keys: str) -> None:
    """The key ring of ``home`` (newest first), replaced atomically."""
    home.mkdir(parents=True, exist_ok=True)
    temporary = home / "key.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="ascii") as handle:
        handle.write(",".join(keys) + "\n")
    os.replace(temporary, home / "key")


def start_worker(env: dict[str, str], folder: Path, name: str) -> subprocess.Popen:
    log = (folder / f"{name}.log").open("ab")
    return subprocess.Popen(
        [*worker_command(f"{name}-{uuid.uuid4().hex[:6]}@%h"), "--loglevel=INFO"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(workers: list[subprocess.Popen]) -> None:
    import signal

    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def recall(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contextrecall.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def soak(broker: str, saves: int, seconds: float, settle_seconds: float) -> dict[str, object]:
    from contextrecall.migrate import upgrade
    from contextrecall.settings import Settings

    url = BROKERS[broker]
    empty_broker(url)
    tag = uuid.uuid4().hex[:8]
    databases = {name: f"recall_soak_{name}_{tag}" for name in ("a", "b", "old")}
    admin = create_engine(ADMIN)
    with admin.begin() as connection:
        for database in databases.values():
            connection.execute(text(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4"))
    folder = Path(tempfile.mkdtemp(prefix=f"soak-stores-{broker}-"))
    keys = {team: (generate_key(), generate_key()) for team in TEAMS}  # (before, after)
    clients = {t: environment(folder, f"client-{t}", databases[t], url) for t in TEAMS}
    servers = {t: environment(folder, f"worker-{t}", databases[t], url) for t in TEAMS}
    stale = environment(folder, "worker-stale", databases["old"], url)
    for team in TEAMS:
        write_key_file(Path(clients[team]["RECALL_HOME"]), keys[team][0])
        write_key_file(Path(servers[team]["RECALL_HOME"]), keys[team][0])
    write_key_file(Path(stale["RECALL_HOME"]), keys["a"][0])
    for env in (*servers.values(), stale):
        upgrade(Settings.from_env(env))
    for env in clients.values():
        recall(env, "status")  # learns which store it writes to, as `recall install` would
    workers = [start_worker(servers[t], folder, f"worker-{t}") for t in TEAMS]
    workers.append(start_worker(stale, folder, "worker-stale"))

    def rotate() -> None:
        """Midway: team A clients first, team B workers first; the other side later."""
        time.sleep(seconds / 2)
        write_key_file(Path(clients["a"]["RECALL_HOME"]), keys["a"][1], keys["a"][0])
        write_key_file(Path(servers["b"]["RECALL_HOME"]), keys["b"][1], keys["b"][0])
        time.sleep(ROTATION_LAG)
        write_key_file(Path(servers["a"]["RECALL_HOME"]), keys["a"][1], keys["a"][0])
        write_key_file(Path(clients["b"]["RECALL_HOME"]), keys["b"][1], keys["b"][0])

    rotation = threading.Thread(target=rotate)
    started = time.monotonic()
    try:
        time.sleep(5)  # the workers up before the first hook
        rotation.start()
        plan = [(clients[t], Path(clients[t]["RECALL_HOME"]).parent, TEAMS[t]) for t in TEAMS]
        written, ran, slow, slowest = drive(plan, saves, seconds)
        rotation.join()
        drove = time.monotonic() - started
        expected = {
            team: {f"s{s}-l{i}" for s in sessions for i in range(written[s])}
            for team, sessions in TEAMS.items()
        }
        stores = {t: Settings.from_env(servers[t]) for t in TEAMS}  # rings of both keys
        deadline = time.monotonic() + settle_seconds
        while time.monotonic() < deadline:
            for env in clients.values():
                recall(env, "spool", "flush")
            settled = all(
                spool_files(Path(clients[t]["RECALL_HOME"])) == 0
                and set(stored_lines(stores[t])) >= expected[t]
                for t in TEAMS
            )
            if settled:
                break
            time.sleep(5)
        held = {t: stored_lines(stores[t]) for t in TEAMS}
        held_old = stored_lines(Settings.from_env(stale))
        left = {t: spool_files(Path(clients[t]["RECALL_HOME"])) for t in TEAMS}
    finally:
        stop(workers)
        from contextrecall.db import dispose_engines

        dispose_engines()
        with admin.begin() as connection:
            for database in databases.values():
                connection.execute(text(f"DROP DATABASE IF EXISTS `{database}`"))
    result: dict[str, object] = {
        "broker": broker,
        "hook saves": ran,
        "seconds": round(drove),
        "hooks over 1.5 s": slow,
        "slowest hook s": round(slowest, 2),
    }
    for team in TEAMS:
        other = next(t for t in TEAMS if t != team)
        result[f"{team}: lines"] = len(expected[team])
        result[f"{team}: lost"] = len(expected[team] - set(held[team]))
        result[f"{team}: stored twice"] = sum(1 for n in held[team].values() if n > 1)
        result[f"{team}: held of {other}"] = len(expected[other] & set(held[team]))
        result[f"{team}: left in spool"] = left[team]
    result["held by the stale worker's store"] = len(held_old)
    for name, env in (*((f"worker {t}", servers[t]) for t in TEAMS), ("stale worker", stale)):
        result[f"jobs the {name} left"] = _count_lines(Path(env["RECALL_HOME"]) / LEFT_JOBS)
    result["settle seconds"] = round(time.monotonic() - started - drove)
    return result


def _count_lines(path: Path) -> int:
    try:
        return sum(1 for _ in path.open())
    except FileNotFoundError:
        return 0


def failed(result: dict[str, object]) -> bool:
    """Anything lost, stored twice, or stored in another team's store (or the stale one)."""
    bad = [v for k, v in result.items() if k.endswith(("lost", "stored twice")) or " held of " in k]
    return any(bad) or bool(result["held by the stale worker's store"])


def main() -> None:
    soak_main(
        __doc__.splitlines()[0],
        soak,
        failed,
        "0 lost, 0 stored twice, each in its own store",
        seconds=120.0,
        settle=300.0,
    )


if __name__ == "__main__":
    main()
