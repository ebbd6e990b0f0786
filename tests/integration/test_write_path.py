"""The write path end to end: hook JSON in, rows out, with a real worker, broker and database."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contextrecall.client.deltas import Delta
from contextrecall.client.outbox import deliver
from contextrecall.db import session_scope
from contextrecall.jobs import build_job
from contextrecall.maintenance.status import format_status, status_report
from contextrecall.models import (
    ContextSnippet,
    ConversationContext,
    DecisionLog,
    FailedJob,
    Project,
    SavedDelta,
)
from contextrecall.settings import HOOK_BUDGET_SECONDS, Settings
from tests.integration.workers import WorkerProcess, run_hook, settings_env, wait_until

BROKER_DB, CACHE_DB = 13, 12


def transcript_lines(session: str, n: int, start: int = 0) -> list[dict]:
    """A small Claude Code 2.x session: prompts, answers with a decision, a Bash call."""
    lines = []
    for i in range(start, start + n):
        lines.append(
            {
                "type": "user",
                "sessionId": session,
                "gitBranch": "main",
                "uuid": f"u{i}",
                "timestamp": f"2026-11-20T10:{i % 60:02d}:00Z",
                "message": {"role": "user", "content": f"Please add feature number {i}"},
            }
        )
        lines.append(
            {
                "type": "assistant",
                "sessionId": session,
                "uuid": f"a{i}",
                "timestamp": f"2026-11-20T10:{i % 60:02d}:30Z",
                "message": {
                    "id": f"msg{i}",
                    "role": "assistant",
                    "content": [
                        {
                            "type": "text",
                            "text": f"I decided to use SQLite for feature {i} "
                            "because it needs no server.",
                        }
                    ],
                },
            }
        )
    return lines


def write_transcript(path: Path, lines: list[dict], mode: str = "w") -> None:
    with path.open(mode, encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line) + "\n")


def make_repo(root: Path, remote: str = "git@github.com:Acme/Widget.git") -> Path:
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(f'[remote "origin"]\n\turl = {remote}\n')
    return root


def hook_event(session: str, transcript: Path, cwd: Path, name: str = "Stop") -> dict:
    """What Claude Code sends a hook for ``session`` (its transcript, its working folder)."""
    return {
        "session_id": session,
        "transcript_path": str(transcript),
        "cwd": str(cwd),
        "hook_event_name": name,
    }


def count(settings: Settings, model, *where) -> int:
    with session_scope(settings) as db:
        return db.scalar(select(func.count()).select_from(model).where(*where))


def make_job(session: str, text: bytes, project: str = "proj", start: int = 0, ring=None) -> dict:
    return build_job(
        project={"name": project, "identity": f"name:{project}"},
        machine=None,
        session_external_id=session,
        source_format="claude",
        delta=Delta(start, start + len(text), text),
        event="test",
        ring=ring,
    )


@pytest.fixture
def write_settings(backend: Settings, redis_url: str, tmp_path: Path) -> Settings:
    import redis

    base = redis_url.rsplit("/", 1)[0]
    for db in (BROKER_DB, CACHE_DB):
        redis.Redis.from_url(f"{base}/{db}").flushdb()
    home = tmp_path / "home"
    return backend.with_overrides(
        home=home,
        broker_url=f"{base}/{BROKER_DB}",
        cache_url=f"{base}/{CACHE_DB}",
        visibility_timeout=6,
    )


@pytest.fixture
def worker(write_settings: Settings, tmp_path: Path):
    process = WorkerProcess(write_settings, tmp_path / "worker.log").start()
    yield process
    process.stop()


def stop_then_session_end(settings: Settings, tmp_path: Path, stored) -> str:
    """Claude Code's Stop, then SessionEnd after two more lines, through `recall hook`; waits
    until ``stored(session)`` counts each delta. Returns the session id."""
    repo = make_repo(tmp_path / "widget")
    session = str(uuid.uuid4())
    transcript = tmp_path / f"{session}.jsonl"
    write_transcript(transcript, transcript_lines(session, 3))
    event = hook_event(session, transcript, repo)
    started = time.monotonic()
    result = run_hook(settings, event)
    assert result.returncode == 0 and result.stdout == ""
    assert time.monotonic() - started < 5
    wait_until(lambda: stored(session) == 1, what="first delta stored")
    write_transcript(transcript, transcript_lines(session, 2, start=3), mode="a")
    assert run_hook(settings, {**event, "hook_event_name": "SessionEnd"}).returncode == 0
    wait_until(lambda: stored(session) == 2, what="second delta stored")
    assert list(settings.spool_dir.glob("*.json")) == []
    return session


def test_hook_json_in_rows_out(write_settings, worker, tmp_path):
    stop_then_session_end(write_settings, tmp_path, lambda _: count(write_settings, SavedDelta))
    with session_scope(write_settings) as db:
        project = db.scalars(select(Project)).one()
        assert project.identity == "git:github.com/acme/widget"
        context = db.scalars(select(ConversationContext)).one()  # refreshed, not duplicated
        assert context.project_id == project.id and context.context_type == "session_summary"
        state = json.loads(context.current_state)
    assert "feature number 4" in (state["last_request"] or "")
    assert "feature number 0" in (state["first_request"] or "")


def test_redelivered_job_stores_nothing_twice(write_settings, worker):
    text = "".join(json.dumps(x) + "\n" for x in transcript_lines("s1", 2)).encode()
    job = make_job("s1", text)
    deliver(write_settings, job)
    wait_until(lambda: count(write_settings, SavedDelta) == 1, what="stored")
    before = (count(write_settings, DecisionLog), count(write_settings, ContextSnippet))
    deliver(write_settings, job)  # the very same message again
    deliver(write_settings, {**job, "job_id": str(uuid.uuid4())})  # a duplicate from a retry
    marker = make_job("s2", text)
    deliver(write_settings, marker)
    wait_until(lambda: count(write_settings, SavedDelta) == 2, what="marker stored")
    assert count(write_settings, SavedDelta, SavedDelta.delta_hash == job["delta"]["sha256"]) == 2
    assert count(write_settings, ConversationContext) == 2
    with session_scope(write_settings) as db:
        occurrences = db.scalars(select(ContextSnippet.occurrences)).all()
    assert (count(write_settings, DecisionLog), count(write_settings, ContextSnippet)) == before
    assert all(n <= 2 for n in occurrences)  # once for s1, at most once more for s2
    assert count(write_settings, FailedJob) == 0


def test_corrupt_jobs_land_in_failed_jobs_while_worker_keeps_serving(write_settings, worker):
    from contextrecall.broker.publish import publish_task

    good = make_job("good", b'{"type":"user","message":{"content":"hello there"}}\n')
    bad_data = {**make_job("bad1", b"x\n"), "job_id": "bad-data"}
    bad_data["delta"] = {**bad_data["delta"], "data": "!!not base64!!"}
    bad_version = {**make_job("bad2", b"x\n"), "job_id": "bad-version", "v": 99}
    for job in (bad_data, bad_version):
        deliver(write_settings, job)
    publish_task(
        write_settings.broker_url, "recall.save_delta", ["not an object"], {}, task_id="bad-type"
    )
    deliver(write_settings, good)
    wait_until(lambda: count(write_settings, FailedJob) == 3, what="3 failed jobs")
    wait_until(lambda: count(write_settings, SavedDelta) == 1, what="good job stored")
    with session_scope(write_settings) as db:
        reasons = dict(db.execute(select(FailedJob.job_id, FailedJob.reason)).all())
    assert "corrupt delta payload" in reasons["bad-data"]
    assert "unsupported job version" in reasons["bad-version"]
    assert "not an object" in reasons["bad-type"]
    assert worker.process.poll() is None


def test_worker_killed_mid_save_completes_once(write_settings, tmp_path):
    big = "".join(json.dumps(x) + "\n" for x in transcript_lines("big", 3000)).encode()
    job = make_job("big", big)
    first = WorkerProcess(write_settings, tmp_path / "w1.log", concurrency=1).start()
    try:
        deliver(write_settings, job)
        wait_until(lambda: "Task recall.save_delta" in first.output(), what="task received")
        first.kill()
    finally:
        first.stop()
    assert count(write_settings, SavedDelta) == 0  # killed before it could commit
    second = WorkerProcess(write_settings, tmp_path / "w2.log").start()
    try:
        wait_until(
            lambda: count(write_settings, SavedDelta) == 1,
            timeout=90,
            what="redelivered job stored",
        )
        time.sleep(2)
        assert count(write_settings, SavedDelta) == 1
        assert count(write_settings, ConversationContext) == 1
    finally:
        second.stop()


def test_saves_from_many_threads_each_stored_exactly_once(write_settings, worker):
    n = 1000 if write_settings.database_url.startswith("mysql") else 300
    jobs = [
        make_job(f"c{i}", f'{{"type":"user","message":{{"content":"task {i}"}}}}\n'.encode())
        for i in range(n)
    ]
    jobs += jobs[:50]  # duplicates, as a broker may redeliver

    def send(chunk):
        for job in chunk:
            deliver(write_settings, job)

    threads = [threading.Thread(target=send, args=(jobs[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_until(
        lambda: count(write_settings, SavedDelta) >= n,
        timeout=240,
        interval=0.5,
        what=f"{n} saves stored",
    )
    time.sleep(1)
    assert count(write_settings, SavedDelta) == n
    assert count(write_settings, ConversationContext) == n
    assert count(write_settings, FailedJob) == 0


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of our own that the test may stop and start."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not available")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        process = None

        def start(self):
            self.process = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(tmp_path),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_until(lambda: _port_open(port), timeout=10, what="redis up")

        def stop(self):
            if self.process:
                self.process.terminate()
                self.process.wait(timeout=10)

    server = Server()
    yield server
    server.stop()


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def test_broker_down_while_50_hooks_fire_then_all_stored_after_flush(
    write_settings, private_redis, tmp_path
):
    settings = write_settings.with_overrides(broker_url=private_redis.url)
    repo = make_repo(tmp_path / "repo")
    for i in range(50):
        transcript = tmp_path / f"s{i}.jsonl"
        write_transcript(transcript, transcript_lines(f"s{i}", 1, start=i))
        started = time.monotonic()
        result = run_hook(
            settings,
            hook_event(f"s{i}", transcript, repo),
        )
        assert result.returncode == 0
        assert time.monotonic() - started < 3
    assert len(list(settings.spool_dir.glob("*.json"))) == 50
    private_redis.start()
    flushed = subprocess.run(
        [sys.executable, "-m", "contextrecall.cli", "spool", "flush"],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert flushed.returncode == 0, flushed.stderr
    assert list(settings.spool_dir.glob("*.json")) == []
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        wait_until(lambda: count(settings, SavedDelta) == 50, timeout=60, what="50 stored")
    finally:
        worker.stop()


class FlakyProxy:
    """A TCP proxy to the database that the test can take down and bring back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.up, self.conns = target, True, []
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()

    def down(self):
        self.up = False
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.conns = []


def test_database_unavailable_then_back_retried_jobs_are_stored(write_settings, tmp_path):
    from sqlalchemy.engine import make_url

    if not write_settings.database_url.startswith("mysql"):
        pytest.skip("an embedded SQLite file cannot be unavailable; covered on MariaDB")
    url = make_url(write_settings.database_url)
    proxy = FlakyProxy((url.host, url.port or 3306))
    proxied = write_settings.with_overrides(
        database_url=url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    )
    worker = WorkerProcess(proxied, tmp_path / "worker.log").start()
    try:
        proxy.down()
        jobs = [
            make_job(f"d{i}", f'{{"type":"user","message":{{"content":"x{i}"}}}}\n'.encode())
            for i in range(5)
        ]
        for job in jobs:
            deliver(proxied, job)
        wait_until(lambda: worker.output().count("Retry in") >= 5, timeout=60, what="retries")
        assert count(write_settings, SavedDelta) == 0
        proxy.up = True
        wait_until(lambda: count(write_settings, SavedDelta) == 5, timeout=90, what="stored")
        assert count(write_settings, FailedJob) == 0
    finally:
        worker.stop()


def test_hook_returns_fast_when_broker_never_answers(write_settings, tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections (the kernel does) and never replies
    settings = write_settings.with_overrides(
        broker_url=f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
    )
    transcript = tmp_path / "t.jsonl"
    write_transcript(transcript, transcript_lines("silent", 2))
    real_budget = {**settings_env(settings), "RECALL_HOOK_BUDGET_SECONDS": str(HOOK_BUDGET_SECONDS)}
    started = time.monotonic()
    result = run_hook(settings, hook_event("silent", transcript, tmp_path), env=real_budget)
    elapsed = time.monotonic() - started
    silent.close()
    assert result.returncode == 0
    assert elapsed < HOOK_BUDGET_SECONDS + 0.6  # the watchdog, and process start-up
    assert len(list(settings.spool_dir.glob("*.json"))) == 1


@pytest.mark.parametrize(
    "stdin",
    [
        "",
        "not json",
        "[1,2]",
        '{"hook_event_name": "Stop"}',
        '{"hook_event_name": "Stop", "session_id": "x", "transcript_path": "/"}',
    ],
)
def test_hook_survives_bad_input(write_settings, stdin):
    result = subprocess.run(
        [sys.executable, "-m", "contextrecall.launcher", "hook"],
        input=stdin,
        env=settings_env(write_settings),
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 0
    assert result.stdout == ""
    assert (write_settings.home / "hook.log").exists()


def test_a_transcript_not_written_yet_is_saved_by_a_later_hook(write_settings, tmp_path):
    """Claude Code often runs a first turn's Stop before it writes the transcript: no error,
    the next save hook (of any session) saves it once it is there."""
    early = tmp_path / "early.jsonl"
    event = {"hook_event_name": "Stop", "session_id": "early", "transcript_path": str(early)}
    assert run_hook(write_settings, event).returncode == 0
    assert not (write_settings.home / "hook.log").exists()  # no false alarm
    assert status_report(write_settings)["waiting_transcripts"] == 1
    early.write_text('{"type":"user","message":{"role":"user","content":"first words"}}\n')
    later = tmp_path / "later.jsonl"
    later.write_text('{"type":"user","message":{"role":"user","content":"other words"}}\n')
    other = {"hook_event_name": "Stop", "session_id": "later", "transcript_path": str(later)}
    assert run_hook(write_settings, other).returncode == 0
    assert status_report(write_settings)["waiting_transcripts"] == 0
    jobs = [json.loads(p.read_text()) for p in write_settings.spool_dir.rglob("*.json")]
    assert sorted(job["session"]["external_id"] for job in jobs) == ["early", "later"]


def test_a_save_bumps_the_projects_cache_generation(write_settings, worker):
    import redis

    from contextrecall.recall.cache import generation_key

    deliver(write_settings, make_job("g1", b'{"type":"user","message":{"content":"hi"}}\n'))
    wait_until(lambda: count(write_settings, SavedDelta) == 1, what="stored")
    with session_scope(write_settings) as db:
        identity = db.scalars(select(Project.identity)).one()
    cache = redis.Redis.from_url(write_settings.cache_url)
    wait_until(lambda: cache.get(generation_key(identity)) == b"1", what="generation bumped")


def test_worker_delivers_the_spool_at_start_up(write_settings, tmp_path):
    dead = write_settings.with_overrides(broker_url="redis://127.0.0.1:1/0")
    transcript = tmp_path / "t.jsonl"
    write_transcript(transcript, transcript_lines("spooled", 1))
    result = run_hook(
        dead,
        hook_event("spooled", transcript, tmp_path, "PreCompact"),
    )
    assert result.returncode == 0
    assert len(list(write_settings.spool_dir.glob("*.json"))) == 1
    worker = WorkerProcess(write_settings, tmp_path / "worker.log").start()
    try:
        wait_until(lambda: count(write_settings, SavedDelta) == 1, what="spooled job stored")
        assert list(write_settings.spool_dir.glob("*.json")) == []
    finally:
        worker.stop()


def test_subagent_stop_saves_the_agent_transcript_as_its_own_session(
    write_settings, worker, tmp_path
):
    main_transcript = tmp_path / "main.jsonl"
    agent = tmp_path / "main" / "subagents" / "agent-a1.jsonl"
    agent.parent.mkdir(parents=True)
    write_transcript(main_transcript, transcript_lines("main", 1))
    write_transcript(agent, transcript_lines("main", 2, start=10))
    event = {
        "session_id": "main",
        "transcript_path": str(main_transcript),
        "agent_transcript_path": str(agent),
        "cwd": str(tmp_path),
        "hook_event_name": "SubagentStop",
    }
    assert run_hook(write_settings, event).returncode == 0
    wait_until(lambda: count(write_settings, SavedDelta) == 1, what="agent delta stored")
    from contextrecall.models import Session

    with session_scope(write_settings) as db:
        assert db.scalars(select(Session.external_id)).all() == ["main/agent-a1"]


def test_a_tampered_stored_delta_fails_the_next_save_loudly(write_settings, worker):
    from sqlalchemy import update

    deliver(write_settings, make_job("t1", b'{"type":"user","message":{"content":"one"}}\n'))
    wait_until(lambda: count(write_settings, SavedDelta) == 1, what="first stored")
    with session_scope(write_settings) as db:
        payload = db.scalars(select(SavedDelta.payload)).one()
        flipped = payload[:-1] + bytes([payload[-1] ^ 1])
        db.execute(update(SavedDelta).values(payload=flipped))
    second = make_job("t1", b'{"type":"user","message":{"content":"two"}}\n', start=100)
    deliver(write_settings, second)
    wait_until(lambda: count(write_settings, FailedJob) == 1, what="failed job recorded")
    with session_scope(write_settings) as db:
        reason = db.scalars(select(FailedJob.reason)).one()
    assert "TamperedError" in reason
    assert count(write_settings, SavedDelta) == 1  # nothing stored on top of garbage


def test_recall_save_wait_on_the_embedded_defaults(tmp_path):
    """SQLite and the serverless broker, worker started by `recall worker`: no server at all."""
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path / "home")})
    subprocess.run(
        [sys.executable, "-m", "contextrecall.cli", "db", "upgrade"],
        env=settings_env(settings),
        check=True,
        capture_output=True,
        timeout=120,
    )
    worker = WorkerProcess(settings, tmp_path / "worker.log", concurrency=1).start()
    try:
        transcript = tmp_path / "chat.jsonl"
        transcript.write_text(
            json.dumps({"role": "user", "speaker": "Ana", "content": "The launch moved to May"})
            + "\n"
        )
        saved = subprocess.run(
            [
                sys.executable,
                "-m",
                "contextrecall.cli",
                "save",
                str(transcript),
                "--project",
                "demo",
                "--format",
                "chat",
                "--wait",
                "--timeout",
                "60",
            ],
            env=settings_env(settings),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert saved.returncode == 0, saved.stderr
        with session_scope(settings) as db:
            snippets = db.scalars(select(ContextSnippet.dense_content)).all()
            assert any("launch moved to May" in s for s in snippets)
            assert db.scalars(select(Project.name)).all() == ["demo"]
        assert list(settings.spool_dir.rglob("*.json")) == []  # stored: no copy kept
    finally:
        worker.stop()


def test_recall_save_wait_fails_when_nothing_stores_the_job(tmp_path):
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path / "home")})
    subprocess.run(
        [sys.executable, "-m", "contextrecall.cli", "db", "upgrade"],
        env=settings_env(settings),
        check=True,
        capture_output=True,
        timeout=120,
    )
    transcript = tmp_path / "t.jsonl"
    write_transcript(transcript, transcript_lines("nobody", 1))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "contextrecall.cli",
            "save",
            str(transcript),
            "--wait",
            "--timeout",
            "2",
        ],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("recall: error: 1 job(s) not stored")


def test_recall_save_rejects_a_missing_file(tmp_path):
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path / "home")})
    result = subprocess.run(
        [sys.executable, "-m", "contextrecall.cli", "save", str(tmp_path / "nope.jsonl")],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"recall: error: {tmp_path / 'nope.jsonl'}: no such file"


@pytest.mark.parametrize(
    ("lines", "args", "error"),
    [
        (["hello world", "not json"], [], "is not a Claude Code, Codex, Gemini CLI or chat "),
        (['{"a": 1}'], ["--format", "codex"], "is not a Codex rollout"),
        (
            [json.dumps({"type": "user", "sessionId": "s", "message": {"content": "hi"}})],
            ["--format", "codex"],
            "is a Claude Code transcript, not a Codex rollout (--format codex)",
        ),
    ],
)
def test_recall_save_rejects_a_file_that_is_not_a_transcript_and_sends_nothing(
    tmp_path, lines, args, error
):
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path / "home")})
    path = tmp_path / "notes.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "contextrecall.cli", "save", *args, str(path)],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"recall: error: {path} {error}")
    assert not list((tmp_path / "home").rglob("*.json"))


def spool_flush(settings: Settings) -> str:
    flushed = subprocess.run(
        [sys.executable, "-m", "contextrecall.cli", "spool", "flush"],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert flushed.returncode == 0, flushed.stderr
    return flushed.stdout


def test_a_job_the_broker_lost_after_handing_it_out_is_sent_again_and_stored_once(
    write_settings, tmp_path
):
    import redis

    from contextrecall.broker.config import QUEUE, store_queue
    from contextrecall.client.own_store import known_store

    settings = write_settings.with_overrides(spool_resend_seconds=1)
    transcript = tmp_path / "lost.jsonl"
    write_transcript(transcript, transcript_lines("lost", 2))
    event = hook_event("lost", transcript, tmp_path)
    assert run_hook(settings, event).returncode == 0
    sent = settings.spool_dir / "sent"
    assert list(settings.spool_dir.glob("*.json")) == [] and len(list(sent.glob("*.json"))) == 1
    # What a worker SIGKILLed right after its BRPOP leaves behind: the job is out of Redis,
    # never acknowledged, and nothing in the broker will hand it out again.
    broker = redis.Redis.from_url(settings.broker_url)
    assert broker.brpop([QUEUE], timeout=5) is not None and broker.llen(QUEUE) == 0
    time.sleep(1.2)
    assert "0 confirmed stored, 1 sent again" in spool_flush(settings)
    # the flush learned which store the client writes to: the job went to that store's queue
    assert broker.llen(store_queue(known_store(settings))) == 1
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        wait_until(lambda: count(settings, SavedDelta) == 1, what="the lost job stored")
        wait_until(lambda: list(sent.glob("*.json")) == [], what="the sent copy confirmed")
    finally:
        worker.stop()
    assert count(settings, SavedDelta) == 1  # sent three times at most, stored once
    assert "0 confirmed stored, 0 sent again" in spool_flush(settings)


def test_a_sent_job_stays_in_the_spool_until_the_store_has_it(write_settings, tmp_path):
    transcript = tmp_path / "kept.jsonl"
    write_transcript(transcript, transcript_lines("kept", 1))
    event = hook_event("kept", transcript, tmp_path)
    assert run_hook(write_settings, event).returncode == 0
    sent = write_settings.spool_dir / "sent"
    assert len(list(sent.glob("*.json"))) == 1
    # not stored yet and not due for resending (300 s): it stays, and is not sent again
    assert "0 confirmed stored, 0 sent again" in spool_flush(write_settings)
    assert len(list(sent.glob("*.json"))) == 1
    worker = WorkerProcess(write_settings, tmp_path / "worker.log").start()
    try:
        wait_until(lambda: count(write_settings, SavedDelta) == 1, what="stored")
    finally:
        worker.stop()
    assert "1 confirmed stored, 0 sent again" in spool_flush(write_settings)
    assert list(sent.glob("*.json")) == []


def test_the_next_hook_drops_what_a_worker_confirmed_and_sends_a_lost_job_again(
    write_settings, tmp_path
):
    import redis

    from contextrecall.broker.config import QUEUE

    settings = write_settings.with_overrides(spool_resend_seconds=1)
    transcript = tmp_path / "hooked.jsonl"
    write_transcript(transcript, transcript_lines("hooked", 2))
    event = hook_event("hooked", transcript, tmp_path)
    assert run_hook(settings, event).returncode == 0
    broker = redis.Redis.from_url(settings.broker_url)
    assert broker.brpop([QUEUE], timeout=5) is not None  # taken by a worker that then died
    time.sleep(1.2)
    write_transcript(transcript, transcript_lines("hooked", 1, start=2), mode="a")
    assert run_hook(settings, event).returncode == 0
    assert broker.llen(QUEUE) == 2  # its own new job, and the lost one again
    sent = settings.spool_dir / "sent"
    assert len(list(sent.glob("*.json"))) == 2  # both wait for the store's word
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        wait_until(lambda: count(settings, SavedDelta) == 2, what="both deltas stored")
    finally:
        worker.stop()
    # Nothing new: the hook only settles (its time budget leaves room for it here). The
    # worker's own spool sweep (every 10 s) may have settled them first on a loaded machine.
    queued = broker.llen(QUEUE)  # what the worker left queued for later (its own tasks)
    assert run_hook(settings, event).returncode == 0
    assert list(sent.glob("*.json")) == []
    assert broker.llen(QUEUE) == queued  # dropped as confirmed, never sent again


def test_jobs_waiting_in_a_redis_restarted_empty_are_sent_again_and_stored_once(
    write_settings, tmp_path
):
    import redis

    settings = write_settings.with_overrides(spool_resend_seconds=1)
    repo = make_repo(tmp_path / "repo")
    for i in range(5):
        transcript = tmp_path / f"w{i}.jsonl"
        write_transcript(transcript, transcript_lines(f"w{i}", 2))
        event = hook_event(f"w{i}", transcript, repo)
        assert run_hook(settings, event).returncode == 0
    broker = redis.Redis.from_url(settings.broker_url)
    assert broker.llen("recall") >= 5
    broker.flushdb()  # Redis restarted without persistence: the waiting jobs are gone
    time.sleep(1.2)
    assert "5 sent again" in spool_flush(settings)
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        wait_until(lambda: count(settings, SavedDelta) == 5, what="all five stored")
    finally:
        worker.stop()
    spool_flush(settings)
    assert list(settings.spool_dir.rglob("*.json")) == []  # every copy confirmed
    assert count(settings, SavedDelta) == 5


def test_a_job_under_a_key_the_worker_lacks_is_left_for_a_worker_that_holds_it(
    write_settings, worker, tmp_path
):
    """Issue 28: a job sealed under a key this worker's ring lacks is not poison. It goes back
    to the queue with back-off, then is let go unconfirmed (never a failed job, never `held`),
    so the sender's copy stays; sent again, a worker holding the key stores it once."""
    from contextrecall.client.own_store import learn_store
    from contextrecall.crypto import KeyRing, generate_key
    from tests.integration.test_stores import confirmations

    other = generate_key()
    text = b'{"type":"user","message":{"content":"sealed elsewhere"}}\n'
    job = make_job("sealed", text, ring=KeyRing(other))
    store = learn_store(write_settings)
    deliver(write_settings, job)
    wait_until(lambda: "left for another worker" in worker.output(), 60, what="the job let go")
    assert worker.output().count("Retry in") >= 2  # back to the queue, with back-off
    assert count(write_settings, FailedJob) == 0 and count(write_settings, SavedDelta) == 0
    assert confirmations(write_settings, job["job_id"]) == set()  # the sender keeps its copy
    report = status_report(write_settings)  # the worker's side says which key waits
    key_id = KeyRing(other).key_ids[0]
    assert report["left_jobs"]["keys"] == {key_id: 1}
    assert f"sealed under key id(s) {key_id} (1) this worker lacks" in format_status(report)
    holder = WorkerProcess(
        write_settings.with_overrides(encryption_key=other), tmp_path / "holder.log"
    ).start()
    try:
        deliver(write_settings, job)  # as the sender's spool sends it again
        wait_until(
            lambda: confirmations(write_settings, job["job_id"]) == {store}, 60, what="confirmed"
        )
    finally:
        holder.stop()
    assert count(write_settings, SavedDelta) == 1 and count(write_settings, FailedJob) == 0


def test_a_worker_whose_database_is_gone_confirms_nothing(empty_mariadb_url, redis_url, tmp_path):
    """Issue 28: the store a job's failure could not be recorded in did not take it. A worker
    whose database was dropped gives up on the job without confirming it, so the sender's
    copy stays (before, it said `held` and the session was gone for good)."""
    import redis
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from contextrecall.migrate import upgrade
    from tests.integration.test_stores import confirmations

    base = redis_url.rsplit("/", 1)[0]
    redis.Redis.from_url(f"{base}/{BROKER_DB}").flushdb()
    settings = Settings.from_env(
        {
            "RECALL_HOME": str(tmp_path / "home"),
            "RECALL_DATABASE_URL": empty_mariadb_url,
            "RECALL_BROKER_URL": f"{base}/{BROKER_DB}",
            "RECALL_VISIBILITY_TIMEOUT": "6",
        }
    )
    upgrade(settings)
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        url = make_url(empty_mariadb_url)
        admin = create_engine(url.set(database=None))
        with admin.begin() as connection:
            connection.execute(text(f"DROP DATABASE `{url.database}`"))
        admin.dispose()
        job = make_job("orphan", b'{"type":"user","message":{"content":"one"}}\n')
        deliver(settings, job)
        failed = settings.home / "failed-jobs.jsonl"  # visible on the worker's side
        wait_until(
            lambda: failed.exists() and job["job_id"] in failed.read_text(), 90, what="given up"
        )
        time.sleep(1)  # the task's last step after recording: confirm, or not
    finally:
        worker.stop()
    assert confirmations(settings, job["job_id"]) == set()
    assert "left to its sender" in worker.output()
