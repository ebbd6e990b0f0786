"""A worker serves one configuration (issue 28): one whose RECALL_HOME is gone stops taking
jobs and says why; one a hook started stops when the configuration it started with changes,
so the next hook starts one with the new settings."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from pathlib import Path

from contextrecall.client.autostart import LOG, worker_alive
from contextrecall.settings import Settings
from tests.integration.test_first_session import (
    fresh_user,
    git_repository,
    run_hook,
    worker_processes,
)
from tests.integration.workers import RECALL, WorkerProcess, recall, wait_until
from tests.support import shared_transcript


def test_a_worker_whose_home_is_gone_stops_and_says_why(tmp_path, redis_url):
    # (on the embedded file broker the queue goes with the home: that worker cannot go on)
    settings = Settings.from_env(
        {"RECALL_HOME": str(tmp_path / "home"), "RECALL_BROKER_URL": redis_url}
    )
    worker = WorkerProcess(settings, tmp_path / "worker.log", concurrency=1).start()
    try:
        shutil.rmtree(settings.home)
        wait_until(lambda: worker.process.poll() is not None, 60, what="the worker stopped")
    finally:
        worker.stop()
    assert f"RECALL_HOME {settings.home} is gone: this worker stops taking jobs" in (
        worker.output()
    )


def test_a_worker_a_hook_started_stops_when_the_configuration_changes(tmp_path):
    env = fresh_user(tmp_path, RECALL_WORKER_IDLE_SECONDS="600")
    repo = git_repository(tmp_path)
    first = tmp_path / "first.db"
    recall(env, repo, "config", "set", "RECALL_DATABASE_URL", f"sqlite:///{first}")
    transcript = tmp_path / "session.jsonl"
    shutil.copyfile(shared_transcript("claude-code-2.1/short.jsonl"), transcript)
    event = {
        "session_id": "s1",
        "transcript_path": str(transcript),
        "cwd": str(repo),
        "hook_event_name": "Stop",
    }
    run_hook(f"{RECALL} hook", event, env, repo)
    settings = Settings.from_env(env)
    wait_until(lambda: worker_alive(settings), 30, what="the started worker")
    (started,) = worker_processes(Path(env["HOME"]))

    second = tmp_path / "second.db"
    recall(env, repo, "config", "set", "RECALL_DATABASE_URL", f"sqlite:///{second}")
    wait_until(lambda: started not in worker_processes(Path(env["HOME"])), 60, what="it stopped")
    log = Path(settings.location(LOG)).read_text()
    assert "the configuration changed (database_url): this worker stops taking jobs" in log

    run_hook(f"{RECALL} hook", {**event, "session_id": "s2"}, env, repo)
    wait_until(lambda: second.exists(), 60, what="a worker with the new settings")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not worker_processes(Path(env["HOME"])):
        time.sleep(0.2)
    assert [started] != worker_processes(Path(env["HOME"]))
    for pid in worker_processes(Path(env["HOME"])):  # leave nothing running
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def test_a_worker_whose_database_became_another_store_stops(tmp_path, redis_url):
    """A database dropped and made again under the same URL is another store: the jobs its
    clients send name the new one, and the worker, which learned the old one, stops."""
    from sqlalchemy import update

    from contextrecall.client.own_store import known_store
    from contextrecall.db import session_scope
    from contextrecall.migrate import upgrade
    from contextrecall.models import StoreIdentity

    settings = Settings.from_env(
        {"RECALL_HOME": str(tmp_path / "home"), "RECALL_BROKER_URL": redis_url}
    )
    upgrade(settings)
    worker = WorkerProcess(settings, tmp_path / "worker.log", concurrency=1).start()
    try:
        wait_until(lambda: known_store(settings) is not None, 30, what="the store learned")
        before = known_store(settings)
        with session_scope(settings) as db:
            db.execute(update(StoreIdentity).values(id="00000000-0000-4000-8000-000000000000"))
        wait_until(lambda: worker.process.poll() is not None, 60, what="the worker stopped")
    finally:
        worker.stop()
    assert f"is now another store (00000000-0000-4000-8000-000000000000, was {before})" in (
        worker.output()
    )
