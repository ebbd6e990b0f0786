"""Decay, cleanup and their single leader, on SQLite and MariaDB, with real processes."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from contextrecall.db import get_engine, session_scope
from contextrecall.dialect import ensure_math_functions, spaced_keys
from contextrecall.maintenance import cleanup, decay, relevance, runs
from contextrecall.models import (
    ContextSnippet,
    ConversationContext,
    DecisionLog,
    FailedJob,
    MaintenanceRun,
    Project,
    ProjectState,
    SavedDelta,
    Session,
    new_uuid,
)
from contextrecall.settings import Settings
from tests.integration.workers import WorkerProcess, run_cli, settings_env, wait_until

NOW = datetime(2026, 11, 25, 12, 0, 0)
BEAT_DB = 10  # the Redis database these tests may use as a broker


def project(settings: Settings, name: str = "alpha") -> str:
    with session_scope(settings) as db:
        row = Project(name=name, identity=f"name:{name}")
        db.add(row)
        db.flush()
        return row.id


def add_context(settings: Settings, project_id: str | None, **values) -> str:
    row = {
        "id": new_uuid(),
        "project_id": project_id,
        "context_type": "session_summary",
        "title": "a session",
        "updated_at": NOW,
        **values,
    }
    with get_engine(settings).begin() as connection:
        connection.execute(insert(ConversationContext.__table__), [row])
    return row["id"]


def add_snippet(settings: Settings, project_id: str | None, **values) -> str:
    row = {
        "id": new_uuid(),
        "project_id": project_id,
        "category": "command",
        "title": "a snippet",
        "dense_content": f"content {new_uuid()}",
        "updated_at": NOW,
        **values,
    }
    with get_engine(settings).begin() as connection:
        connection.execute(insert(ContextSnippet.__table__), [row])
    return row["id"]


def scores(settings: Settings) -> dict[str, float]:
    with session_scope(settings) as db:
        rows = db.execute(select(ConversationContext.id, ConversationContext.relevance_score))
        snippets = db.execute(select(ContextSnippet.id, ContextSnippet.relevance_score))
        return {**dict(rows.all()), **dict(snippets.all())}


def varied_memory(settings: Settings) -> None:
    """Memories of every kind, age, use and importance (ages from minutes to years)."""
    pid = project(settings)
    kinds = [*relevance.HALF_LIFE_DAYS, "unlisted kind"]
    for i in range(40):
        age = timedelta(days=(i * 7.3) % 400, seconds=i * 977)
        add_context(
            settings,
            pid,
            context_type=kinds[i % len(kinds)],
            session_id=None,
            updated_at=NOW - age,
            importance=0.25 + (i % 5) * 0.25,  # exact in a FLOAT
            title=f"context {i}",
        )
        add_snippet(
            settings,
            pid,
            category=kinds[(i + 3) % len(kinds)],
            updated_at=NOW - age,
            last_used_at=None if i % 3 else NOW - age / 3,
            usage_count=(i * 13) % 50,
            importance=0.5 + (i % 4) * 0.25,
        )


def expected_scores(settings: Settings, now: datetime, *, rounded: bool = True) -> dict:
    """What the pure formula says for every row, from the rows' own timestamps."""
    fn = relevance.relevance if rounded else relevance.raw_relevance
    with session_scope(settings) as db:
        out = {
            c.id: fn(relevance.days_since(now, c.updated_at), c.context_type, 0, c.importance)
            for c in db.scalars(select(ConversationContext))
        }
        for s in db.scalars(select(ContextSnippet)):
            age = relevance.days_since(now, s.updated_at, s.last_used_at)
            out[s.id] = fn(age, s.category, s.usage_count, s.importance)
    return out


# --- decay ----------------------------------------------------------------------------------


def test_sql_formula_agrees_with_the_pure_function(backend):
    varied_memory(backend)
    with session_scope(backend) as db:
        ensure_math_functions(db)
        computed = {}
        for target in decay.TARGETS:
            raw = decay.score_sql(db, target, NOW, rounded=False)
            computed.update(db.execute(select(target.table.c.id, raw)).all())
    expected = expected_scores(backend, NOW, rounded=False)
    assert computed.keys() == expected.keys()
    for key, value in expected.items():
        assert computed[key] == pytest.approx(value, rel=1e-9), key


def test_decay_stores_the_formulas_scores(backend):
    varied_memory(backend)
    result = decay.decay(backend, now=NOW, batch=7)
    stored, expected = scores(backend), expected_scores(backend, NOW)
    for key, value in expected.items():  # MariaDB's FLOAT holds ~7 digits
        assert stored[key] == pytest.approx(value, abs=1e-6), key
    changed = sum(1 for v in expected.values() if abs(v - 1.0) > 1e-9)
    assert sum(result["rescored"].values()) == changed > 40
    assert result["batches"] == 2 * 6  # 40 rows a table: five batches of 7, then the rest
    assert min(stored.values()) == pytest.approx(relevance.FLOOR, abs=1e-6)


def test_decay_twice_gives_identical_scores_and_writes_nothing_the_second_time(backend):
    varied_memory(backend)
    decay.decay(backend, now=NOW, batch=5)
    first = scores(backend)
    again = decay.decay(backend, now=NOW, batch=5)
    assert scores(backend) == first
    assert again["rescored"] == {"conversation_contexts": 0, "context_snippets": 0}


def test_decay_late_or_out_of_order_gives_the_score_of_the_timestamps(backend):
    varied_memory(backend)
    later = NOW + timedelta(days=9, hours=5)
    # Hourly runs, then two runs out of order ending with `later`...
    for hour in range(0, 6):
        decay.decay(backend, now=NOW + timedelta(hours=hour))
    decay.decay(backend, now=later + timedelta(days=30))
    decay.decay(backend, now=later)
    by_history = scores(backend)
    # ...give exactly what one run at `later`, late after none at all, gives.
    with get_engine(backend).begin() as connection:
        for table in (ConversationContext.__table__, ContextSnippet.__table__):
            connection.execute(
                table.update().values(relevance_score=1.0, updated_at=table.c.updated_at)
            )
    decay.decay(backend, now=later)
    assert scores(backend) == by_history
    for key, value in expected_scores(backend, later).items():
        assert by_history[key] == pytest.approx(value, abs=1e-6)


def test_decay_never_touches_updated_at(backend):
    varied_memory(backend)
    with session_scope(backend) as db:
        before = dict(db.execute(select(ContextSnippet.id, ContextSnippet.updated_at)).all())
    decay.decay(backend, now=NOW + timedelta(days=20))
    with session_scope(backend) as db:
        after = dict(db.execute(select(ContextSnippet.id, ContextSnippet.updated_at)).all())
    assert after == before


def test_recent_use_and_importance_keep_a_memory_relevant(backend):
    pid = project(backend)
    old = NOW - timedelta(days=120)
    plain = add_snippet(backend, pid, updated_at=old)
    used = add_snippet(backend, pid, updated_at=old, usage_count=4, last_used_at=NOW)
    important = add_snippet(backend, pid, updated_at=old, importance=1.25)
    decay.decay(backend, now=NOW)
    stored = scores(backend)
    assert stored[plain] == pytest.approx(0.25, abs=1e-6)  # two 60-day half-lives
    assert stored[important] == pytest.approx(0.31, abs=1e-6)  # 1.25 x 0.25
    assert stored[used] == pytest.approx(1.0)


def test_batches_partition_the_table_into_ranges_of_about_the_batch_size(backend):
    pid = project(backend)
    with get_engine(backend).begin() as connection:
        connection.execute(
            insert(ContextSnippet.__table__),
            [
                {
                    "id": new_uuid(),
                    "project_id": pid,
                    "category": "fact",
                    "title": "t",
                    "dense_content": f"c{i}",
                }
                for i in range(3000)
            ],
        )
    with session_scope(backend) as db:
        bounds = spaced_keys(db, ContextSnippet.__table__.c.id, 200)
        ids = sorted(db.scalars(select(ContextSnippet.id)))
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds)
    assert 8 <= len(bounds) <= 22  # about 3000 / 200
    edges = [0, *(ids.index(b) + 1 for b in bounds), len(ids)]
    sizes = [b - a for a, b in pairwise(edges)]
    assert sum(sizes) == 3000 and max(sizes) <= 3 * 200, sizes


def test_snippets_keep_their_extraction_importance(backend):
    from contextrecall.memory import SessionMemory, Snippet
    from contextrecall.store import memory_rows as store

    with session_scope(backend) as db:
        row = Project(name="beta", identity="name:beta")
        db.add(row)
        db.flush()
        session = Session(external_id="s", project_id=row.id)
        db.add(session)
        db.flush()
        memory = SessionMemory(
            title="t",
            summary="s",
            snippets=[
                Snippet(category="fix", title="a", content="restart the broker", importance=1.5),
                Snippet(category="fact", title="b", content="ok", importance=0.5),
            ],
        )
        store.add_snippets(db, row, session, memory)
    with session_scope(backend) as db:
        stored = dict(db.execute(select(ContextSnippet.title, ContextSnippet.importance)).all())
    assert stored == {"a": 1.5, "b": 0.5}


# --- cleanup --------------------------------------------------------------------------------


@pytest.fixture
def policy(backend: Settings, tmp_path: Path) -> Settings:
    return backend.with_overrides(
        home=tmp_path / "home",
        retention_days=90.0,
        retention_min_relevance=0.1,
        spool_retention_days=7.0,
        failed_job_retention_days=30.0,
    )


def table_ids(settings: Settings, model) -> set[str]:
    with session_scope(settings) as db:
        return set(db.scalars(select(model.id)))


def populate_for_cleanup(settings: Settings) -> dict[str, set[str]]:
    """Rows cleanup must remove (``gone``) beside rows it must keep (``kept``)."""
    pid = project(settings)
    old, young = NOW - timedelta(days=200), NOW - timedelta(days=10)
    gone: dict[str, set[str]] = defaultdict(set)
    kept: dict[str, set[str]] = defaultdict(set)
    for _ in range(3):
        gone["contexts"].add(add_context(settings, pid, updated_at=old, relevance_score=0.05))
        gone["snippets"].add(add_snippet(settings, pid, updated_at=old, relevance_score=0.06))
    # Orphans: their project is gone; old ones go whatever their score.
    gone["contexts"].add(add_context(settings, None, updated_at=old, relevance_score=0.9))
    gone["snippets"].add(add_snippet(settings, None, updated_at=old, relevance_score=0.9))
    kept["contexts"] |= {
        add_context(settings, pid, updated_at=old, relevance_score=0.5),  # still relevant
        add_context(settings, pid, updated_at=young, relevance_score=0.05),  # too young
        add_context(settings, None, updated_at=young, relevance_score=0.05),  # young orphan
        add_context(settings, pid, context_type="decision", updated_at=old, relevance_score=0.05),
    }
    kept["snippets"] |= {
        add_snippet(settings, pid, updated_at=old, relevance_score=0.2),
        add_snippet(settings, pid, updated_at=young, relevance_score=0.05),
        # Old, low, but used recently: kept.
        add_snippet(settings, pid, updated_at=old, last_used_at=young, relevance_score=0.05),
    }
    with session_scope(settings) as db:
        live = Session(external_id="live", project_id=pid, updated_at=old)
        orphan = Session(external_id="orphan", project_id=None, updated_at=old, ended_at=old)
        young_orphan = Session(external_id="young", project_id=None, updated_at=young)
        db.add_all([live, orphan, young_orphan])
        db.flush()
        db.add(
            SavedDelta(
                session_id=orphan.id,
                job_id="j",
                delta_hash="0" * 64,
                key_id="k",
                payload=b"x",
            )
        )
        decisions = [
            DecisionLog(
                project_id=p,
                session_id=orphan.id,
                decision_type="technical",
                decision_text=f"decision {i}",
                created_at=old,
                updated_at=old,
            )
            for i, p in enumerate((pid, None))
        ]
        state = ProjectState(project_id=pid, updated_at=old)
        failed_old = FailedJob(job_id="old", task_name="t", reason="r", created_at=old)
        failed_new = FailedJob(job_id="new", task_name="t", reason="r", created_at=young)
        db.add_all([*decisions, state, failed_old, failed_new])
        db.flush()
        gone["sessions"].add(orphan.id)
        kept["sessions"] |= {live.id, young_orphan.id}
        kept["decisions"] = {d.id for d in decisions}
        kept["states"] = {state.id}
        gone["failed"].add(failed_old.id)
        kept["failed"].add(failed_new.id)
    return {"gone": gone, "kept": kept}


def spool_files(settings: Settings) -> dict[str, Path]:
    """An old job, an old abandoned temporary, and a fresh job in the spool."""
    folder = settings.spool_dir
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "old": folder / "00000000000000000001-old.json",
        "old_tmp": folder / ".00000000000000000002-tmp.json.tmp",
        "new": folder / f"{time.time_ns():020d}-new.json",
    }
    for path in files.values():
        path.write_text("{}")
    old = (NOW - timedelta(days=8)).replace(tzinfo=UTC).timestamp()
    for key in ("old", "old_tmp"):
        os.utime(files[key], (old, old))
    recent = (NOW - timedelta(days=6)).replace(tzinfo=UTC).timestamp()
    os.utime(files["new"], (recent, recent))
    return files


MODELS = {
    "contexts": ConversationContext,
    "snippets": ContextSnippet,
    "sessions": Session,
    "decisions": DecisionLog,
    "states": ProjectState,
    "failed": FailedJob,
}


def test_cleanup_dry_run_counts_and_removes_nothing_then_cleanup_removes_exactly_that(policy):
    rows = populate_for_cleanup(policy)
    files = spool_files(policy)
    before = {kind: table_ids(policy, model) for kind, model in MODELS.items()}

    preview = cleanup.cleanup(policy, now=NOW, dry_run=True)
    assert preview["would_remove"] == {
        "conversation_contexts": 4,
        "context_snippets": 4,
        "sessions": 1,
        "failed_jobs": 1,
        "spool_files": 2,
    }
    assert {kind: table_ids(policy, model) for kind, model in MODELS.items()} == before
    assert all(path.exists() for path in files.values())

    result = cleanup.cleanup(policy, now=NOW, batch=2)
    assert result["removed"] == preview["would_remove"]
    for kind, model in MODELS.items():
        remaining = table_ids(policy, model)
        assert remaining == before[kind] - rows["gone"][kind], kind
        assert rows["kept"][kind] <= remaining, kind
    assert not files["old"].exists() and not files["old_tmp"].exists()
    assert files["new"].exists()
    with session_scope(policy) as db:  # the orphaned session's deltas went with it
        assert db.scalar(select(func.count()).select_from(SavedDelta)) == 0

    assert cleanup.cleanup(policy, now=NOW)["removed"] == dict.fromkeys(result["removed"], 0)


def test_cleanup_works_through_many_short_batches(policy):
    pid = project(policy)
    old = NOW - timedelta(days=365)
    doomed = {add_snippet(policy, pid, updated_at=old, relevance_score=0.05) for _ in range(23)}
    keep = {add_snippet(policy, pid, updated_at=old, relevance_score=0.5) for _ in range(9)}
    result = cleanup.cleanup(policy, now=NOW, batch=4)
    assert result["removed"]["context_snippets"] == len(doomed)
    assert table_ids(policy, ContextSnippet) == keep
    assert result["longest_batch_seconds"] < 1.0


# --- run records and the single leader -------------------------------------------------------


def test_only_the_first_claim_of_a_slot_wins(backend):
    with session_scope(backend) as db:
        first = runs.claim(db, "decay", "2026-11-25T12:00:00Z", NOW)
    with session_scope(backend) as db:
        second = runs.claim(db, "decay", "2026-11-25T12:00:00Z", NOW)
        other_job = runs.claim(db, "cleanup", "2026-11-25T12:00:00Z", NOW)
    assert first is not None and second is None and other_job is not None


def test_concurrent_claims_of_one_slot_have_one_winner(backend):
    winners: list[str | None] = []
    barrier = threading.Barrier(6)

    def contend() -> None:
        barrier.wait()
        with session_scope(backend) as db:
            winners.append(runs.claim(db, "cleanup", "2026-11-25T00:00:00Z", NOW))

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(winners) == 6
    assert sum(1 for w in winners if w) == 1


def test_run_once_records_runs_and_last_runs_reports_the_latest(backend):
    calls = []
    ran = runs.run_once(backend, "decay", "slot-1", lambda: calls.append(1) or {"rows": 3})
    skipped = runs.run_once(backend, "decay", "slot-1", lambda: calls.append(2) or {})
    assert ran["ran"] is True and skipped["ran"] is False and calls == [1]
    with pytest.raises(RuntimeError):
        runs.run_once(backend, "cleanup", None, lambda: (_ for _ in ()).throw(RuntimeError("x")))
    time.sleep(1.1)  # MariaDB keeps whole seconds
    runs.run_once(backend, "decay", None, lambda: {"rows": 5})
    with session_scope(backend) as db:
        latest = runs.last_runs(db)
    assert latest["decay"]["outcome"] == "ok"
    assert latest["decay"]["detail"] == {"rows": 5}
    assert latest["decay"]["finished_at"] >= latest["decay"]["started_at"]
    assert latest["cleanup"]["outcome"] == "failed"
    assert "RuntimeError: x" in latest["cleanup"]["detail"]["error"]


def test_last_runs_is_empty_before_any_run(backend):
    with session_scope(backend) as db:
        assert runs.last_runs(db) == {}


# --- the CLI --------------------------------------------------------------------------------


def test_recall_decay_and_cleanup_run_the_jobs_now(policy):
    pid = project(policy)
    stale = add_context(policy, pid, updated_at=decay.utc_now() - timedelta(days=400))
    fresh = add_snippet(policy, pid, updated_at=decay.utc_now())

    preview = run_cli(policy, "cleanup", "--dry-run", "--json")
    assert preview.returncode == 0, preview.stderr
    assert json.loads(preview.stdout)["would_remove"]["conversation_contexts"] == 0  # score 1.0

    decayed = run_cli(policy, "decay", "--json")
    assert decayed.returncode == 0, decayed.stderr
    report = json.loads(decayed.stdout)
    assert report["ran"] is True
    assert report["rescored"] == {"conversation_contexts": 1, "context_snippets": 0}
    assert scores(policy)[stale] == pytest.approx(relevance.FLOOR, abs=1e-6)

    shown = run_cli(policy, "cleanup", "--dry-run")
    assert shown.returncode == 0, shown.stderr
    assert "would remove 1 conversation_contexts" in shown.stdout
    assert table_ids(policy, ConversationContext) == {stale}

    cleaned = run_cli(policy, "cleanup")
    assert cleaned.returncode == 0, cleaned.stderr
    assert "removed 1 conversation_contexts, 0 context_snippets" in cleaned.stdout
    assert table_ids(policy, ConversationContext) == set()
    assert table_ids(policy, ContextSnippet) == {fresh}
    with session_scope(policy) as db:
        recorded = Counter(db.scalars(select(MaintenanceRun.job)))
        latest = runs.last_runs(db)
    assert recorded == {"decay": 1, "cleanup": 1}  # dry runs are not runs
    assert latest["cleanup"]["detail"]["removed"]["conversation_contexts"] == 1


def test_recall_cleanup_reports_an_unreachable_database_in_one_line(tmp_path):
    settings = Settings.from_env(
        {
            "RECALL_HOME": str(tmp_path),
            "RECALL_DATABASE_URL": "mysql+pymysql://nobody@127.0.0.1:1/none",
        }
    )
    result = run_cli(settings, "cleanup", "--dry-run")
    assert result.returncode == 2
    assert result.stderr.startswith("recall: error: database unavailable")
    assert len(result.stderr.strip().splitlines()) == 1


# --- two beats, one worker ------------------------------------------------------------------


class BeatProcess:
    """`recall beat` as a child process, logging to a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "contextrecall.cli", "beat"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def sent(self, task: str) -> int:
        return self.log_path.read_text(errors="replace").count(f"Sending due task {task} ")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


RESULT = re.compile(r"Task (recall\.\w+)\[[^\]]+\] succeeded in [0-9.e-]+s: (\{.*\})$", re.M)


def task_results(worker: WorkerProcess) -> list[dict]:
    return [ast.literal_eval(m.group(2)) for m in RESULT.finditer(worker.output())]


@pytest.fixture
def beat_settings(backend: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """SQLite with the serverless broker (the embedded defaults); MariaDB with Redis."""
    home = tmp_path / "home"
    if backend.is_embedded_database:
        return backend.with_overrides(home=home, broker_url="filesystem://")
    import redis

    url = f"{request.getfixturevalue('redis_url').rsplit('/', 1)[0]}/{BEAT_DB}"
    redis.Redis.from_url(url).flushdb()
    return backend.with_overrides(home=home, broker_url=url)


def test_two_beats_one_runner_per_slot(beat_settings, tmp_path):
    settings = beat_settings
    env = {**settings_env(settings), "RECALL_DECAY_INTERVAL": "2", "RECALL_CLEANUP_INTERVAL": "3"}
    worker = WorkerProcess(settings, tmp_path / "worker.log", concurrency=2).start()
    beats = [BeatProcess(env, tmp_path / f"beat{i}.log") for i in (1, 2)]
    try:

        def slots_done(job: str) -> int:
            with session_scope(settings) as db:
                return db.scalar(
                    select(func.count())
                    .select_from(MaintenanceRun)
                    .where(MaintenanceRun.job == job, MaintenanceRun.outcome == "ok")
                )

        def fired(job: str, times: int) -> bool:  # by each beat (one may start later)
            return min(beat.sent(f"recall-{job}") for beat in beats) >= times

        wait_until(
            lambda: (
                slots_done("decay") >= 4
                and slots_done("cleanup") >= 3
                and fired("decay", 4)
                and fired("cleanup", 3)
            ),
            timeout=60,
            what="decay and cleanup runs",
        )
    finally:
        for beat in beats:
            beat.stop()
    sent = {job: [beat.sent(f"recall-{job}") for beat in beats] for job in ("decay", "cleanup")}
    assert min(sent["decay"]) >= 4 and min(sent["cleanup"]) >= 3, sent
    total = sum(sent["decay"]) + sum(sent["cleanup"])
    try:
        wait_until(lambda: len(task_results(worker)) >= total, timeout=30, what="every message")
    finally:
        worker.stop()

    results = task_results(worker)
    by_slot: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for result in results:
        by_slot[(result["job"], result["slot"])].append(result["ran"])
    assert len(results) == total
    for key, outcomes in by_slot.items():
        assert outcomes.count(True) == 1, (key, outcomes)  # never zero, never two runners
    both_sent = [key for key, outcomes in by_slot.items() if len(outcomes) == 2]
    assert len(both_sent) >= 5, by_slot  # the two beats really did fire the same slots
    with session_scope(settings) as db:
        recorded = {(r.job, r.slot) for r in db.scalars(select(MaintenanceRun))}
        outcomes = set(db.scalars(select(MaintenanceRun.outcome)))
    assert recorded == set(by_slot)
    assert outcomes == {"ok"}
