"""`recall status`: queue depth, spool backlog, failed jobs, maintenance runs, rows; both
database backends, a real Redis broker (database 9) and no worker, so messages stay queued."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from contextrecall.client.deltas import Delta
from contextrecall.client.outbox import deliver
from contextrecall.client.spool import Spool
from contextrecall.db import session_scope
from contextrecall.jobs import build_job
from contextrecall.maintenance import status as operations
from contextrecall.models import FailedJob, new_uuid
from contextrecall.settings import Settings
from tests.integration.workers import run_cli

BROKER_DB = 9


def job(session: str, ring=None) -> dict:
    data = b'{"type":"user","message":{"content":"hello"}}\n'
    return build_job(
        project={"name": "status", "identity": "name:status"},
        machine=None,
        session_external_id=session,
        source_format="claude",
        delta=Delta(0, len(data), data),
        event="test",
        ring=ring,
    )


def run_status(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    return run_cli(settings, "status", *args, timeout=60)


def status_json(settings: Settings) -> dict:
    result = run_status(settings, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def status_settings(backend: Settings, redis_url: str, tmp_path: Path):
    import redis

    broker = f"{redis_url.rsplit('/', 1)[0]}/{BROKER_DB}"
    client = redis.Redis.from_url(broker)
    client.flushdb()
    yield backend.with_overrides(home=tmp_path / "home", broker_url=broker)
    client.flushdb()
    client.close()


def test_queue_depth_counts_jobs_waiting_for_a_worker(status_settings):
    before = status_json(status_settings)  # learns the store: jobs go to its queue
    assert before["queue"]["depth"] == 0 and before["store_queue"]["depth"] == 0
    for i in range(3):
        deliver(status_settings, job(f"s{i}"))
    report = status_json(status_settings)
    assert report["store_queue"] == {
        "broker": status_settings.broker_url,
        "queue": f"recall.{report['store']}",
        "depth": 3,
    }
    assert report["queue"]["depth"] == 0
    shown = run_status(status_settings).stdout
    assert f"recall.{report['store']} on redis://" in shown and "3 waiting" in shown


def test_queue_depth_of_the_filesystem_broker_counts_message_files(backend, tmp_path):
    settings = backend.with_overrides(home=tmp_path / "home", broker_url="filesystem://")
    assert status_json(settings)["store_queue"]["depth"] == 0
    deliver(settings, job("fs1"), timeout=10)
    deliver(settings, job("fs2"), timeout=10)
    assert status_json(settings)["store_queue"]["depth"] == 2


@pytest.mark.parametrize(
    "broker", ["redis://127.0.0.1:1/0", "amqp://guest:guest@127.0.0.1:1//", "sqs://"]
)
def test_unreachable_or_unknown_broker_shows_unavailable(backend, tmp_path, broker):
    settings = backend.with_overrides(home=tmp_path / "home", broker_url=broker)
    result = run_status(settings)
    assert result.returncode == 0, result.stderr
    assert "unavailable" in result.stdout
    queue = status_json(settings)["queue"]
    assert queue["depth"] is None and queue["error"]
    assert "guest:guest" not in result.stdout


def test_spool_backlog_shows_count_and_oldest_age(status_settings):
    spool = Spool(status_settings.spool_dir)
    paths = [spool.put(job(f"sp{i}")) for i in range(4)]
    old = time.time() - 7200
    os.utime(paths[0], (old, old))
    (status_settings.spool_dir / ".half-written.json.tmp").write_text("{")
    spooled = status_json(status_settings)["spool"]
    assert spooled["count"] == 4
    assert 7190 <= spooled["oldest_age_seconds"] <= 7300
    assert "4 job(s), oldest 2.0h old" in run_status(status_settings).stdout


def test_a_full_disk_and_sent_jobs_are_reported(status_settings, monkeypatch):
    from contextrecall.crypto import KeyRing, generate_key

    ring = KeyRing(generate_key())
    spool = Spool(status_settings.spool_dir)
    spool.put(job("sent-1"))
    spool.put(job("sent-2", ring=ring))
    spool.flush(lambda j: None)
    spooled = operations.spool_backlog(status_settings.spool_dir)
    assert spooled["sent"] == 2 and spooled["free_bytes"] > 0 and not spooled["disk_full"]
    assert spooled["sent_keys"] == {ring.key_ids[0]: 1}  # which key a waiting job needs
    monkeypatch.setattr(operations, "free_bytes", lambda folder: 5 * 1024 * 1024)
    report = operations.status_report(status_settings)
    report["spool"] = operations.spool_backlog(status_settings.spool_dir)
    shown = operations.format_status(report)
    assert f"2 sent, awaiting the store (sealed under key id(s) {ring.key_ids[0]} (1))" in shown
    assert "disk      FULL: 5 MB free" in shown


def test_failed_jobs_show_count_and_latest_reasons(status_settings):
    with session_scope(status_settings) as db:
        for i in range(7):
            db.add(
                FailedJob(
                    id=new_uuid(),
                    job_id=f"job-{i}",
                    task_name="recall.save_delta",
                    reason=f"ValueError: corrupt delta payload number {i}",
                    created_at=datetime(2026, 11, 1, 12, i),
                )
            )
    status_settings.home.mkdir(parents=True, exist_ok=True)
    (status_settings.home / "failed-jobs.jsonl").write_text(
        json.dumps(
            {
                "job_id": "offline-1",
                "task_name": "recall.save_delta",
                "reason": "unsupported job version 99",
                "at": time.time(),
                "db_error": "database down",
            }
        )
        + "\nnot json\n"
    )
    report = status_json(status_settings)
    failed = report["failed_jobs"]
    assert failed["count"] == 7, (report["revision"], report["rows"], report["database"])
    assert [item["job_id"] for item in failed["latest"]] == [f"job-{i}" for i in (6, 5, 4, 3, 2)]
    assert failed["latest"][0]["reason"] == "ValueError: corrupt delta payload number 6"
    assert failed["latest"][0]["attempts"] == 1
    assert failed["local"]["count"] == 1
    assert failed["local"]["latest"][0]["reason"] == "unsupported job version 99"
    shown = run_status(status_settings).stdout
    assert "failed    7 job(s), 1 more in" in shown
    assert "corrupt delta payload number 6" in shown


def test_rows_per_table_and_never_run_maintenance(status_settings):
    report = status_json(status_settings)
    assert report["rows"]["conversation_contexts"] == 0
    assert report["rows"]["failed_jobs"] == 0
    shown = run_status(status_settings).stdout
    assert "rows" in shown and "conversation_contexts" in shown
    assert "decay" in shown and "cleanup" in shown


def fake_runs_module(monkeypatch, last_runs) -> None:
    monkeypatch.setattr("contextrecall.maintenance.runs.last_runs", last_runs)


def test_last_maintenance_runs_are_shown(status_settings, monkeypatch):
    runs = {
        "decay": {
            "started_at": datetime(2026, 11, 20, 3, 0, 0),
            "finished_at": datetime(2026, 11, 20, 3, 0, 4),
            "outcome": "ok",
            "detail": {"rows": 1200, "batches": 2},
        }
    }
    fake_runs_module(monkeypatch, lambda db: runs)
    report = operations.status_report(status_settings)
    assert report["maintenance"]["decay"]["finished_at"] == "2026-11-20T03:00:04"
    json.dumps(report)  # datetimes made JSON-ready
    shown = operations.format_status(report)
    assert "decay     last 2026-11-20T03:00:04: ok  rows=1200, batches=2" in shown
    assert "cleanup   never run" in shown


def test_maintenance_table_missing_is_not_an_error(status_settings, monkeypatch):
    def last_runs(db):
        return db.execute(text(f"SELECT * FROM missing_{uuid.uuid4().hex[:6]}")).all()

    fake_runs_module(monkeypatch, last_runs)
    assert operations.status_report(status_settings)["maintenance"] == {}


def test_runs_recorded_by_maintenance_show_in_status(status_settings):
    from contextrecall.maintenance import runs

    with session_scope(status_settings) as db:
        run_id = runs.claim(db, "cleanup", "2026-11-20T04:00:00Z", datetime(2026, 11, 20, 4))
        runs.finish(db, run_id, "ok", {"removed": 12})
    report = status_json(status_settings)
    cleanup = report["maintenance"]["cleanup"]
    assert cleanup["outcome"] == "ok" and cleanup["detail"] == {"removed": 12}
    assert cleanup["started_at"].startswith("2026-11-20T04:00:00")
    assert "decay" not in report["maintenance"]
    shown = run_status(status_settings).stdout
    assert "removed=12" in shown and "decay     never run" in shown


def test_a_fresh_embedded_install_is_no_fault(tmp_path):
    """Before the first session's worker made the embedded database, status says so, without
    a fix to run (issue 29: every line it shows is a real fault with its real fix)."""
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path / "home")})
    shown = run_status(settings)
    assert shown.returncode == 0, shown.stderr
    assert "revision  none yet: the worker of the first session creates the database" in (
        shown.stdout
    )
    assert "recall db upgrade" not in shown.stdout
    assert not (tmp_path / "home" / "recall.db").exists()  # asking created nothing
