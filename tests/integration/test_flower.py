"""`recall flower` against a real worker and Redis (database 11): basic auth everywhere,
readable task names, no transcript text in the task arguments, Prometheus metrics."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from contextrecall import migrate
from contextrecall.db import get_engine
from contextrecall.settings import Settings
from tests.integration.test_write_path import make_repo, transcript_lines
from tests.integration.workers import WorkerProcess, run_hook, settings_env, wait_until

BROKER_DB = 11
AUTH = "recall-ops:s3cret-pass"
SECRET_SENTENCE = "The purple walrus recites Kafka at midnight in Reykjavik"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, auth: str | None = AUTH) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


@pytest.fixture
def flower_settings(redis_url: str, tmp_path: Path):
    import redis

    broker = f"{redis_url.rsplit('/', 1)[0]}/{BROKER_DB}"
    client = redis.Redis.from_url(broker)
    client.flushdb()
    home = tmp_path / "home"
    settings = Settings.from_env(
        {"RECALL_HOME": str(home), "RECALL_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    ).with_overrides(broker_url=broker, visibility_timeout=30)
    migrate.upgrade(settings)
    yield settings
    get_engine(settings).dispose()
    client.flushdb()
    client.close()


@pytest.fixture
def flower(flower_settings: Settings, tmp_path: Path):
    port = free_port()
    log = (tmp_path / "flower.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contextrecall.cli",
            "flower",
            f"--port={port}",
            "--address=127.0.0.1",
        ],
        env={**settings_env(flower_settings), "RECALL_FLOWER_BASIC_AUTH": AUTH},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError((tmp_path / "flower.log").read_text()[-3000:])
        try:
            return get(f"{base}/healthcheck", auth=None)[0] == 200
        except OSError:
            return False

    try:
        wait_until(up, timeout=30, what="flower answering")
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()


def test_recall_flower_requires_auth_and_shows_tasks_without_transcript_text(
    flower_settings, flower, tmp_path
):
    worker = WorkerProcess(flower_settings, tmp_path / "worker.log").start()
    try:
        for path in ("/", "/api/workers", "/api/tasks", "/metrics"):
            assert get(flower + path, auth=None)[0] == 401, path
            assert get(flower + path, auth="recall-ops:wrong")[0] == 401, path

        def worker_listed() -> bool:
            status, body = get(f"{flower}/api/workers?refresh=1")
            return status == 200 and any(
                name.startswith("test-") for name in json.loads(body or "{}")
            )

        wait_until(worker_listed, timeout=30, interval=0.5, what="worker in /api/workers")

        session = str(uuid.uuid4())
        transcript = tmp_path / f"{session}.jsonl"
        lines = transcript_lines(session, 2)
        lines[0]["message"]["content"] = SECRET_SENTENCE
        transcript.write_text("".join(json.dumps(line) + "\n" for line in lines))
        repo = make_repo(tmp_path / "repo")
        hook = run_hook(
            flower_settings,
            {
                "session_id": session,
                "transcript_path": str(transcript),
                "cwd": str(repo),
                "hook_event_name": "Stop",
            },
        )
        assert hook.returncode == 0, hook.stderr

        def finished_task() -> dict | None:
            status, body = get(f"{flower}/api/tasks")
            assert status == 200
            done = [
                task
                for task in json.loads(body).values()
                if task.get("name") == "recall.save_delta" and task.get("state") == "SUCCESS"
            ]
            return done[0] if done else None

        task = wait_until(finished_task, timeout=60, interval=0.5, what="task in /api/tasks")
        shown = json.dumps({"args": task.get("args"), "kwargs": task.get("kwargs")})
        assert session in shown and "bytes=" in shown  # readable: ids and sizes
        assert SECRET_SENTENCE not in shown and "Kafka" not in shown
        assert "zlib" not in shown and len(shown) < 400  # no encoded payload either
        _, everything = get(f"{flower}/api/tasks")
        assert SECRET_SENTENCE not in everything

        status, metrics = get(f"{flower}/metrics")
        assert status == 200
        assert "flower_events_total" in metrics
        assert 'task="recall.save_delta"' in metrics
    finally:
        worker.stop()
