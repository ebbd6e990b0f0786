"""Two stores on one broker (issue 28): a job names the store its client writes to, a worker
of another store leaves it, and a client heeds only its own store's confirmations; a key
rotated while a worker runs reaches it without a restart."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import redis

from contextrecall.broker.config import QUEUE, store_queue
from contextrecall.broker.confirmations import PREFIX
from contextrecall.client.outbox import settle_confirmed
from contextrecall.client.own_store import known_store, learn_store
from contextrecall.crypto import generate_key
from contextrecall.maintenance.status import format_status, status_report
from contextrecall.migrate import upgrade
from contextrecall.models import FailedJob, SavedDelta
from contextrecall.settings import Settings
from tests.integration.test_write_path import (
    count,
    hook_event,
    make_repo,
    transcript_lines,
    write_settings,  # noqa: F401 (a fixture)
    write_transcript,
)
from tests.integration.workers import WorkerProcess, run_hook, wait_until


def confirmations(settings: Settings, job_id: str) -> set[str]:
    """The stores whose worker said it holds ``job_id``."""
    keys = redis.Redis.from_url(settings.broker_url).keys(f"{PREFIX}*:{job_id}")
    return {key.decode()[len(PREFIX) :].rsplit(":", 1)[0] for key in keys}


def sent_jobs(settings: Settings) -> list[str]:
    return [
        json.loads(path.read_text())["job_id"]
        for path in (settings.spool_dir / "sent").glob("*.json")
    ]


def other_store(settings: Settings, tmp_path: Path) -> Settings:
    """A second store (its own database and home) on the same broker."""
    other = settings.with_overrides(
        home=tmp_path / "other-home", database_url=f"sqlite:///{tmp_path / 'other.db'}"
    )
    upgrade(other)
    return other


def save_hook(settings: Settings, tmp_path: Path, session: str, lines: int = 2) -> None:
    """Claude Code's Stop hook for ``session`` with ``lines`` new exchanges."""
    transcript = tmp_path / f"{session}.jsonl"
    start = 0
    if transcript.exists():
        start = sum(1 for _ in transcript.open()) // 2
    write_transcript(transcript, transcript_lines(session, lines, start=start), mode="a")
    repo = make_repo(tmp_path / "repo") if not (tmp_path / "repo").exists() else tmp_path / "repo"
    assert run_hook(settings, hook_event(session, transcript, repo)).returncode == 0


def test_a_job_goes_to_its_stores_queue_and_only_a_worker_of_that_store_stores_it(
    write_settings,  # noqa: F811
    tmp_path,
):
    # one key ring for both: only the store tells them apart
    settings = write_settings.with_overrides(spool_resend_seconds=1, encryption_key=generate_key())
    mine = learn_store(settings)
    other = other_store(settings, tmp_path)
    theirs = learn_store(other)
    assert mine != theirs and known_store(settings) == mine
    assert status_report(settings)["store"] == mine  # `recall status` names it
    broker = redis.Redis.from_url(settings.broker_url)
    stranger = WorkerProcess(other, tmp_path / "stranger.log").start()
    try:
        save_hook(settings, tmp_path, "mine")
        (job_id,) = sent_jobs(settings)
        assert broker.llen(store_queue(mine)) == 1  # its store's queue: the stranger never reads it
        # the safety net: a job for this store in the shared queue (sent before the client
        # learned its store, then stamped when sent again) is left by the stranger
        job = json.loads(next((settings.spool_dir / "sent").glob("*.json")).read_text())
        deliver_to(settings, {**job, "store": mine}, QUEUE)
        wait_until(
            lambda: "left for another worker" in stranger.output(), 90, what="the job let go"
        )
    finally:
        stranger.stop()
    assert f"is for store {mine}" in stranger.output()
    assert count(other, SavedDelta) == 0 and count(other, FailedJob) == 0
    assert confirmations(settings, job_id) == set()
    report = status_report(other)  # the stranger's side says which store the job waits for
    assert report["left_jobs"]["stores"] == {mine: 1}
    assert f"for other store(s) {mine} (1)" in format_status(report)
    assert sent_jobs(settings) == [job_id]  # the sender keeps its copy

    owner = WorkerProcess(settings, tmp_path / "owner.log").start()
    try:
        wait_until(lambda: count(settings, SavedDelta) == 1, 60, what="the job stored")
        wait_until(lambda: confirmations(settings, job_id) == {mine}, 30, what="confirmed")
        save_hook(settings, tmp_path, "mine", lines=1)
        wait_until(lambda: count(settings, SavedDelta) == 2, 60, what="the second stored")
    finally:
        owner.stop()
    assert count(other, SavedDelta) == 0
    assert job_id not in sent_jobs(settings)  # its own store's word: the copy is gone


def deliver_to(settings: Settings, job: dict, queue: str) -> None:
    from contextrecall.broker.publish import publish_task
    from contextrecall.jobs import SAVE_TASK

    publish_task(settings.broker_url, SAVE_TASK, [job], {}, task_id=job["job_id"], queue=queue)


def test_only_the_own_stores_confirmation_drops_a_sent_copy(
    write_settings,  # noqa: F811
    tmp_path,
):
    """The stranger's word (the failure it recorded in its own database, say) never costs
    the sender its copy; before the client knows its store, no word counts."""
    settings = write_settings.with_overrides(spool_resend_seconds=3600)
    save_hook(settings, tmp_path, "s")  # no worker: the job waits in sent/
    (job_id,) = sent_jobs(settings)
    broker = redis.Redis.from_url(settings.broker_url)
    assert known_store(settings) is None  # not learned yet
    broker.set(f"{PREFIX}some-store:{job_id}", "1")
    assert settle_confirmed(settings, deadline=time.monotonic() + 2) == (0, 0)
    mine = learn_store(settings)
    assert settle_confirmed(settings, deadline=time.monotonic() + 2) == (0, 0)
    assert sent_jobs(settings) == [job_id]
    broker.set(f"{PREFIX}{mine}:{job_id}", "1")
    assert settle_confirmed(settings, deadline=time.monotonic() + 2) == (1, 0)
    assert sent_jobs(settings) == []


def write_key_file(settings: Settings, *keys: str) -> None:
    path = settings.location("key")
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    temporary = path + ".tmp"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(",".join(keys) + "\n")
    os.replace(temporary, path)


@pytest.mark.parametrize("clients_first", [True, False], ids=["clients-first", "workers-first"])
def test_a_key_rotated_while_saves_are_in_flight_loses_nothing(
    write_settings,  # noqa: F811
    tmp_path,
    clients_first,
):
    """Rotation in either order: the clients seal under the new key before the worker holds
    it (the worker reads its key file again and stores the job, no restart, nothing failed),
    or the worker holds it first (clients' jobs under the old key still open)."""
    client = write_settings.with_overrides(spool_resend_seconds=2)
    server = client.with_overrides(home=tmp_path / "worker-home")
    old, new = generate_key(), generate_key()
    write_key_file(client, old)
    write_key_file(server, old)
    learn_store(client)
    worker = WorkerProcess(server, tmp_path / "worker.log").start()
    try:
        save_hook(client, tmp_path, "r")  # under the old key, before anything rotated
        wait_until(lambda: count(client, SavedDelta) == 1, 60, what="the first stored")
        first, second = (client, server) if clients_first else (server, client)
        write_key_file(first, new, old)
        save_hook(client, tmp_path, "r")  # in flight while the rotation is half done
        if clients_first:
            wait_until(lambda: "Retry in" in worker.output(), 60, what="the worker lacks it")
        write_key_file(second, new, old)
        save_hook(client, tmp_path, "r")
        wait_until(lambda: count(client, SavedDelta) == 3, 90, what="all three stored")
        time.sleep(2.1)
        save_hook(client, tmp_path, "r", lines=0)  # settles what was confirmed
    finally:
        worker.stop()
    assert count(client, FailedJob) == 0
    assert "left for another worker" not in worker.output()  # taken up, not let go
    wait_until(lambda: sent_jobs(client) == [], 30, what="every copy confirmed")
