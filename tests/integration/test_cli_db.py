"""`recall db …` and `recall status` as a user runs them: real processes, both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RECALL = [sys.executable, "-m", "contextrecall.cli"]


def run_recall(settings, *args: str, extra_env: dict | None = None):
    env = {
        **os.environ,
        "RECALL_HOME": str(settings.home),
        "RECALL_DATABASE_URL": settings.database_url,
        **(extra_env or {}),
    }
    return subprocess.run([*RECALL, *args], env=env, capture_output=True, text=True, timeout=120)


def test_db_commands_round_trip(empty_backend):
    upgraded = run_recall(empty_backend, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    current = run_recall(empty_backend, "db", "current")
    assert current.stdout.strip().endswith("(head)")
    assert run_recall(empty_backend, "db", "check").returncode == 0
    status = json.loads(run_recall(empty_backend, "status", "--json").stdout)
    assert status["up_to_date"] is True
    assert status["rows"]["conversation_contexts"] == 0
    down = run_recall(empty_backend, "db", "downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert run_recall(empty_backend, "db", "current").stdout.startswith("base")


def test_unreachable_database_is_one_line_error(tmp_path: Path):
    from contextrecall.settings import Settings

    settings = Settings.from_env(
        {
            "RECALL_HOME": str(tmp_path),
            "RECALL_DATABASE_URL": "mysql+pymysql://nobody@127.0.0.1:1/none?connect_timeout=2",
        }
    )
    result = run_recall(settings, "status")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("recall: error: database unavailable")


def test_unknown_revision_is_one_line_error(empty_backend):
    result = run_recall(empty_backend, "db", "upgrade", "nonsense")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_command_on_an_unmigrated_server_database_says_to_run_db_upgrade(empty_backend):
    """The embedded database is migrated on first use; a server database names the fix."""
    result = run_recall(empty_backend, "search", "anything", "--project", "p")
    if empty_backend.is_embedded_database:
        assert result.returncode == 0, result.stderr
        current = run_recall(empty_backend, "db", "current")
        assert current.stdout.strip().endswith("(head)")
        return
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "run `recall db upgrade`" in lines[0], result.stderr


def test_a_worker_migrates_the_database_before_it_serves(empty_backend, tmp_path):
    from tests.integration.workers import WorkerProcess

    worker = WorkerProcess(empty_backend, tmp_path / "worker.log", concurrency=1, pool="solo")
    worker.start()
    try:
        current = run_recall(empty_backend, "db", "current")
        assert current.stdout.strip().endswith("(head)"), current.stdout + current.stderr
    finally:
        worker.stop()
