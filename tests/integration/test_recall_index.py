"""The recall index the worker keeps: hooks and search answer from it as the database does,
without SQLAlchemy, PyMySQL or redis-py, and it comes back by itself when it is lost.

Each test runs on the embedded default (SQLite, the index in a local file) and on MariaDB +
Redis (the index in Redis database 1).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.coding_recall import session_of
from bench.locomo import session_files
from contextrecall.db import session_scope
from contextrecall.generation import bump_generation
from contextrecall.models import DecisionLog, Project, new_uuid
from contextrecall.recall import answer, loading, service, session_start
from contextrecall.recall.index import keeper, reader
from contextrecall.settings import Settings
from tests.integration.memories import decisions_since_kafka
from tests.integration.workers import WorkerProcess, run_cli, run_hook, settings_env, wait_until
from tests.support import flush_redis

NOW = datetime(2030, 1, 1)


def _project(settings: Settings, name: str) -> Project:
    with session_scope(settings) as db:
        return db.scalars(select(Project).where(Project.name == name)).one()


def _chosen(source, query: str, budget: int = 1000) -> list[tuple[float, str]]:
    _, chosen = answer.ranked_block(source, query, budget, answer.MAX_ITEMS, NOW)
    return [(round(score, 9), item.id) for score, item in chosen]


def _same_ties_aside(first: list[tuple[float, str]], second: list[tuple[float, str]]) -> bool:
    """The same items in the same order, items of equal score in any order among them."""
    return sorted(first, key=lambda p: (-p[0], p[1])) == sorted(second, key=lambda p: (-p[0], p[1]))


def _fields(item) -> tuple:
    # every field but the cached terms (the index keeps them; the database computes them)
    return tuple(getattr(item, name) for name in item.__slots__ if name != "scored")


def _compare(settings: Settings, project: str, questions: list[str]) -> list[str]:
    """The questions the index and the database answer differently. Ranking is a pure
    function of the candidates and the term counts: the same candidates (every field, in the
    same order) and the same counts give the same answer, which every fifth question also
    checks whole."""
    row = _project(settings, project)
    keeper.refresh_start(settings, row.identity)  # a lagging state is rendered, as a worker does
    index = reader.fresh_index(settings, row.identity)
    assert index is not None, f"the index of {project} is not current"
    different = []
    with session_scope(settings) as db:
        database = loading.DatabaseSource(db, row.id)
        resumed = session_start.resume_text(session_start.resume_sections(db, row.id))
        if reader.IndexSource(index).resumed() != resumed:  # how things stand
            different.append("(where the last session left off)")
        for n, question in enumerate(questions):
            expected, counts = answer.candidates(database, question, 1000)
            found, found_counts = answer.candidates(reader.IndexSource(index), question, 1000)
            same = counts == found_counts and list(map(_fields, expected)) == list(
                map(_fields, found)
            )
            if same and n % 5 == 0:
                from_index = _chosen(reader.IndexSource(index), question)
                same = _same_ties_aside(_chosen(database, question), from_index)
            if not same:
                different.append(question)
    return different


def _save_in_process(settings: Settings, project: str, path: Path, session: str, fmt: str):
    """What a worker does with a saved transcript, here: store it and bring the index up."""
    from contextrecall.client.deltas import read_deltas
    from contextrecall.crypto import load_key_ring
    from contextrecall.identity import named_project, this_machine
    from contextrecall.jobs import build_job
    from contextrecall.store.save_job import save_job

    ring = load_key_ring(settings)
    ref = named_project(project)
    for delta in read_deltas(str(path), 0):
        if not delta.text:
            continue
        job = build_job(
            project=ref.to_dict(),
            machine=this_machine().to_dict(),
            session_external_id=session,
            source_format=fmt,
            delta=delta,
            event="save",
            transcript_path=str(path),
        )
        with session_scope(settings) as db:
            stored = save_job(db, job, ring)
        generation = bump_generation(settings, ref.identity)
        keeper.after_save(
            identity=ref.identity,
            ids=stored.memory_ids,
            generation=generation,
            settings=settings,
            now=True,
        )


# The dev sets, a part a test (so parallel test processes share them out): LoCoMo's five
# conversations and coding-recall's two projects.
LOCOMO_DEV = ("conv-26", "conv-30", "conv-41", "conv-42", "conv-43")
CODING_DEV = ("spotter", "demo")


@pytest.mark.parametrize("conversation_id", LOCOMO_DEV)
def test_the_index_answers_a_locomo_conversations_questions_as_the_database_does(
    kept, shared_data, tmp_path, conversation_id
):
    """A LoCoMo dev conversation, saved as a worker saves it: every question of categories 1
    to 4 finds the same items in the same order through the index as through the database."""
    conversations = json.loads((shared_data / "locomo" / "locomo-dev.json").read_text())
    assert tuple(c["sample_id"] for c in conversations) == LOCOMO_DEV  # every one is a part
    (conversation,) = [c for c in conversations if c["sample_id"] == conversation_id]
    project = f"locomo-{conversation_id}"
    for path in session_files(conversation, tmp_path / conversation["sample_id"]):
        _save_in_process(kept, project, path, path.stem, "chat")
    questions = [q["question"] for q in conversation["qa"] if q["category"] in (1, 2, 3, 4)]
    assert len(questions) > 50
    assert _compare(kept, project, questions) == []


@pytest.mark.parametrize("name", CODING_DEV)
def test_the_index_answers_a_coding_projects_questions_as_the_database_does(
    kept, shared_data, name
):
    """A coding-recall dev project, its transcripts saved as a worker saves them: every
    question finds the same items in the same order through the index as through the
    database."""
    recall = shared_data / "coding-recall"
    projects = json.loads((recall / "projects.json").read_text())
    assert tuple(projects) == CODING_DEV  # every one is a part
    for relative in projects[name]["files"]:
        path = shared_data / "transcripts" / relative
        _save_in_process(kept, name, path, session_of(relative), "claude")
    questions = [json.loads(line) for line in (recall / "questions-dev.jsonl").open()]
    asked = [q["question"] for q in questions if q["project"] == name]
    assert len(asked) >= 15
    assert _compare(kept, name, asked) == []


def _decisions(
    settings: Settings, identity: str = "name:ledger", name: str = "ledger", later: int = 1000
) -> Project:
    """A project whose Kafka decision was made ``later`` decisions ago."""
    with session_scope(settings) as db:
        project = Project(id=new_uuid(), name=name, identity=identity)
        db.add(project)
        db.flush()
        db.add_all(decisions_since_kafka(project.id, later))
        return project


def test_a_decision_made_1000_decisions_ago_is_found_through_the_index(kept):
    project = _decisions(kept)
    keeper.rebuild(kept, project)
    assert reader.fresh_index(kept, project.identity) is not None
    answered = reader.ranked_block(
        kept, project.identity, "why kafka for the audit stream?", 300, None, NOW
    )
    assert answered is not None and "replay a month of audit events" in answered[0]


def test_a_snake_case_name_finds_what_names_it_through_the_index_and_the_database(kept, tmp_path):
    """``mcp_start`` is the only word the question shares with the memory that answers it:
    both sources find it by that name (MariaDB's index keeps it whole, SQLite's as a phrase)."""
    from tests.unit.test_compression import Transcript

    transcript = (
        Transcript()
        .user("are the old database sessions still on disk?")
        .bash(
            "python3 find_sessions.py --project /mnt/c/python/mcp_start",
            "Session file not found for df9a3171",
        )
        .say("Those sessions are gone from disk.")
    )
    _save_in_process(kept, "export", transcript.save(tmp_path / "s.jsonl"), "s1", "claude")
    question = "what came back for mcp_start?"
    assert _compare(kept, "export", [question]) == []
    identity = _project(kept, "export").identity
    answered = reader.ranked_block(kept, identity, question, 300, None, NOW)
    assert answered is not None and "Session file not found" in answered[0]
    with session_scope(kept) as db:
        source = loading.DatabaseSource(db, _project(kept, "export").id)
        text, _ = answer.ranked_block(source, question, 300, None, NOW)
    assert "Session file not found" in text


def _decide_quokka(settings: Settings, project_id: str) -> None:
    """A decision no earlier memory's words lead to."""
    with session_scope(settings) as db:
        db.add(
            DecisionLog(
                id=new_uuid(),
                project_id=project_id,
                decision_type="technical",
                decision_text="Adopt the quokka scheduler for nightly exports",
            )
        )


@pytest.mark.parametrize("migrated_backend", ["mariadb"], indirect=True)
def test_machines_sharing_a_database_without_redis_see_each_others_saves_at_once(backend, tmp_path):
    """No index is kept beside a shared database without a cache: a local one is stamped
    with this machine's generation, which another machine's saves never move, so it would
    hide them and still look current. Reads go to the database."""
    here = backend
    there = Settings.from_env(
        {"RECALL_HOME": str(tmp_path / "there"), "RECALL_DATABASE_URL": backend.database_url}
    )
    project = _decisions(here)
    keeper.rebuild(here, project)
    found = service.search(here, "ledger", "why kafka for the audit stream?", budget=300)
    assert "replay a month of audit events" in found["context"]
    _decide_quokka(there, project.id)
    keeper.after_save(
        identity=project.identity,
        ids={},
        generation=bump_generation(there, project.identity),
        settings=there,
        now=True,
    )
    found = service.search(here, "ledger", "which quokka scheduler for exports?")
    assert "quokka scheduler" in found["context"]
    assert reader.fresh_index(here, project.identity) is None
    assert not os.path.exists(keeper.open_index(here, project.identity).path)  # none built
    (row,) = keeper.report(here, ["ledger"])
    assert row["state"] == "none" and row["kept_in"] == "database", row


def _recall_index(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(settings, "index", *args)


def test_recall_index_rebuild_builds_what_status_reports_current(kept):
    _decisions(kept)
    rebuilt = _recall_index(kept, "rebuild")
    assert rebuilt.returncode == 0 and "rebuilt 1 index(es)" in rebuilt.stdout, rebuilt.stderr
    (row,) = map(json.loads, _recall_index(kept, "status", "--json").stdout.splitlines())
    assert row["state"] == "current" and row["memories"] == 1001, row
    assert row["kept_in"] == ("file" if kept.is_embedded_database else "redis")


@pytest.mark.parametrize("migrated_backend", ["mariadb"], indirect=True)
def test_recall_index_says_none_is_kept_beside_a_shared_database_without_redis(backend):
    _decisions(backend)
    rebuilt = _recall_index(backend, "rebuild")
    assert rebuilt.returncode == 2 and rebuilt.stdout == ""
    assert rebuilt.stderr.count("\n") == 1 and "RECALL_CACHE_URL" in rebuilt.stderr
    status = _recall_index(backend, "status")
    assert status.returncode == 0 and "no index (reads go to the database" in status.stdout


def _hook(settings: Settings, event: dict, env: dict[str, str] | None = None) -> str:
    """`recall hook` as Claude Code runs it; its additionalContext ("" for none)."""
    done = run_hook(settings, event, env=env)
    assert done.returncode == 0
    if not done.stdout:
        return ""
    return json.loads(done.stdout)["hookSpecificOutput"]["additionalContext"]


def _prompt(text: str, cwd: Path) -> dict:
    return {
        "hook_event_name": "UserPromptSubmit",
        "prompt": text,
        "cwd": str(cwd),
        "session_id": "s",
    }


def _repository(tmp_path: Path, name: str) -> Path:
    """A checkout whose project identity is ``name:``-free: its git remote."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "config").write_text(f'[remote "origin"]\n\turl = git@example.com:{name}\n')
    return repo


def _project_for(repo: Path) -> tuple[str, str]:
    from contextrecall.identity import project_for_directory

    ref = project_for_directory(str(repo))
    return ref.identity, ref.name


def test_the_hook_answers_from_the_index_with_the_database_gone(kept, tmp_path):
    """With the index current, a prompt and a session start are answered from it alone: the
    database URL may point nowhere."""
    repo = _repository(tmp_path, "acme/ledger")
    project = _decisions(kept, *_project_for(repo), later=0)
    keeper.rebuild(kept, project)
    env = settings_env(kept)
    env["RECALL_DATABASE_URL"] = (
        "sqlite:////nonexistent/folder/recall.db"
        if kept.is_embedded_database
        else "mysql+pymysql://root@127.0.0.1:1/none"
    )
    context = _hook(kept, _prompt("why kafka for the audit stream?", repo), env)
    assert "replay a month of audit events" in context
    start = _hook(
        kept, {"hook_event_name": "SessionStart", "cwd": str(repo), "session_id": "s"}, env
    )
    assert "Use Kafka for the audit stream" in start
    # unrelated words clear no bar: nothing is injected
    assert _hook(kept, _prompt("zebra crossing weather", repo), env) == ""


def test_a_stale_index_is_not_read(kept, tmp_path):
    """A save the index has not caught up with (the generation moved on): the hook reads the
    database, which holds the new memory."""
    repo = _repository(tmp_path, "acme/ledger")
    identity, name = _project_for(repo)
    with session_scope(kept) as db:
        project = Project(id=new_uuid(), name=name, identity=identity)
        db.add(project)
    keeper.rebuild(kept, project)
    _decide_quokka(kept, project.id)
    bump_generation(kept, identity)
    assert reader.fresh_index(kept, identity) is None
    assert "quokka scheduler" in _hook(kept, _prompt("which quokka scheduler for exports?", repo))


def _lose_index(settings: Settings, identity: str) -> None:
    if settings.cache_url:
        flush_redis(settings.cache_url)  # FLUSHDB: the index, the generations, everything
    else:
        os.remove(keeper.open_index(settings, identity).path)


def test_a_lost_index_is_rebuilt_by_the_worker_and_the_hook_answers_meanwhile(kept, tmp_path):
    """After FLUSHDB (Redis) or a deleted index file, the hook answers from the database,
    and the worker's keeper rebuilds the index, which then answers alone."""
    repo = _repository(tmp_path, "acme/ledger")
    identity, name = _project_for(repo)
    _decisions(kept, identity, name)
    settings = Settings.from_env({**settings_env(kept), "RECALL_INDEX_CHECK_SECONDS": "0.5"})
    worker = WorkerProcess(settings, tmp_path / "worker.log", concurrency=1).start()
    try:
        wait_until(lambda: keeper.is_fresh(kept, identity), 60, what="the first index")
        _lose_index(kept, identity)
        assert reader.fresh_index(kept, identity) is None
        question = _prompt("why kafka for the audit stream?", repo)
        assert "replay a month of audit events" in _hook(kept, question)
        wait_until(lambda: keeper.is_fresh(kept, identity), 60, what="the rebuilt index")
    finally:
        worker.stop()
    env = {**settings_env(kept), "RECALL_DATABASE_URL": "sqlite:////nonexistent/recall.db"}
    if not kept.is_embedded_database:
        env["RECALL_DATABASE_URL"] = "mysql+pymysql://root@127.0.0.1:1/none"
    assert "replay a month of audit events" in _hook(kept, question, env)


def test_a_worker_keeps_the_index_current_save_after_save(kept, tmp_path):
    """Saves through a real worker: the index is current after each, holds the new memory,
    and a session summary rewritten by a later save replaces the old one."""
    from tests.support import shared_transcript

    transcript = shared_transcript("claude-code-2.1/short.jsonl")
    lines = transcript.read_text().splitlines(keepends=True)
    growing = tmp_path / "session.jsonl"
    growing.write_text("".join(lines[: len(lines) // 2]))
    settings = kept
    worker = WorkerProcess(settings, tmp_path / "worker.log", concurrency=1).start()
    env = settings_env(settings)
    save = [sys.executable, "-m", "contextrecall.cli", "save", "--project", "grow", "--wait"]
    try:
        subprocess.run([*save, str(growing)], env=env, check=True, capture_output=True)
        identity = _project(settings, "grow").identity
        wait_until(lambda: keeper.is_fresh(settings, identity), 30, what="the index")
        growing.write_text("".join(lines))
        subprocess.run([*save, str(growing)], env=env, check=True, capture_output=True)
        wait_until(lambda: keeper.is_fresh(settings, identity), 30, what="the synced index")
    finally:
        worker.stop()
    index = reader.fresh_index(settings, identity)
    sessions = reader.IndexSource(index).latest(answer.SESSION, 10)
    with session_scope(settings) as db:
        database = loading.DatabaseSource(db, _project(settings, "grow").id)
        expected = database.latest(answer.SESSION, 10)
    assert [(i.id, i.text) for i in sessions] == [(i.id, i.text) for i in expected]
    questions = ["what was the last error", "which files changed", "how were the tests run"]
    assert _compare(settings, "grow", questions) == []


HEAVY = ["sqlalchemy", "pymysql", "redis", "celery", "kombu", "click", "alembic"]


def test_a_prompt_and_a_session_start_load_no_heavy_module(kept, tmp_path):
    """The hook path's import guard, for the context events read from the index."""
    repo = _repository(tmp_path, "acme/ledger")
    identity, name = _project_for(repo)
    project = _decisions(kept, identity, name)
    keeper.rebuild(kept, project)
    for event in (
        _prompt("why kafka for the audit stream?", repo),
        {"hook_event_name": "SessionStart", "cwd": str(repo), "session_id": "s"},
    ):
        code = (
            "import io, json, sys\n"
            "from contextrecall.hook import main\n"
            "out = io.StringIO()\n"
            "main(stdin=open(sys.argv[1], 'rb'), stdout=out)\n"
            f"print(json.dumps([bool(out.getvalue()), sorted(set(sys.modules) & {set(HEAVY)!r})]))"
        )
        request = tmp_path / "event.json"
        request.write_text(json.dumps(event))
        done = subprocess.run(
            [sys.executable, "-c", code, str(request)],
            env=settings_env(kept),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        answered, heavy = json.loads(done.stdout)
        assert answered and heavy == [], event["hook_event_name"]


def test_the_index_size_is_accounted_and_in_redis_at_most_twice_the_text(
    kept, shared_data, tmp_path
):
    conversation = json.loads((shared_data / "locomo" / "locomo-dev.json").read_text())[0]
    project = f"locomo-{conversation['sample_id']}"
    for path in session_files(conversation, tmp_path / conversation["sample_id"]):
        _save_in_process(kept, project, path, path.stem, "chat")
    # saves grow an index past the hashes it was built with; the worker's keeper then
    # rebuilds it to size (``keeper.outgrown``), as here
    keeper.rebuild_projects(kept, project)
    (row,) = keeper.report(kept, [project])
    assert row["state"] == "current" and row["memories"] > 300
    assert row["index_bytes"] > 0
    if kept.cache_url:  # the embedded default's file is on disk, not in a server's memory
        assert row["kept_in"] == "redis" and row["index_bytes"] <= 2 * row["text_bytes"], row


def test_an_index_missing_a_record_is_not_trusted(kept, tmp_path):
    """Part of the index gone (a Redis evicting under memory pressure, a damaged file): the
    hook answers from the database, not from what is left."""
    repo = _repository(tmp_path, "acme/ledger")
    identity, name = _project_for(repo)
    project = _decisions(kept, identity, name, later=3)
    keeper.rebuild(kept, project)
    index = keeper.open_index(kept, identity, reader=False)
    if kept.cache_url:
        import redis

        client = redis.Redis.from_url(kept.cache_url)
        for key in client.scan_iter(match="recall:ix:*:rec"):
            client.delete(key)
    else:
        import sqlite3

        with sqlite3.connect(index.path) as db:
            db.execute("DELETE FROM rec")
    question = _prompt("why kafka for the audit stream?", repo)
    assert "replay a month of audit events" in _hook(kept, question)
    found = service.search(kept, name, "why kafka for the audit stream?")
    assert "replay a month of audit events" in found["context"]
