"""After saving transcripts full of secrets, none of them is anywhere: not in a dump of the
database, not under any Redis key (broker and cache), not in the spool or anything else under
RECALL_HOME, not in Flower's task list."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from contextrecall.db import get_engine, session_scope
from contextrecall.models import Base, ConversationContext, SavedDelta
from contextrecall.recall import service, session_start
from tests.integration.test_flower import flower, get  # noqa: F401  (the Flower fixture)
from tests.integration.test_write_path import make_repo, transcript_lines
from tests.integration.workers import WorkerProcess, run_hook, wait_until
from tests.unit.redaction_corpus import SECRETS

BROKER_DB, CACHE_DB = 5, 4
FORMS = {  # each secret as it would appear in raw text, inside JSON and in bytes
    form
    for _, _, secret in SECRETS
    for form in (secret, json.dumps(secret)[1:-1])
    if len(form) >= 12
}


def _leaks(text: str) -> list[str]:
    return sorted(form for form in FORMS if form in text)


@pytest.fixture
def flower_settings(backend, redis_url: str, tmp_path: Path):
    """Both backends, a Redis broker and a Redis cache (what the Flower fixture runs on)."""
    import redis

    base = redis_url.rsplit("/", 1)[0]
    clients = [redis.Redis.from_url(f"{base}/{db}") for db in (BROKER_DB, CACHE_DB)]
    for client in clients:
        client.flushdb()
    yield backend.with_overrides(
        home=tmp_path / "home",
        broker_url=f"{base}/{BROKER_DB}",
        cache_url=f"{base}/{CACHE_DB}",
        visibility_timeout=30,
    )
    for client in clients:
        client.flushdb()
        client.close()


def _secret_transcript(path: Path, session: str) -> None:
    lines = transcript_lines(session, len(SECRETS))
    prompts = [line for line in lines if isinstance(line["message"].get("content"), str)]
    assert len(prompts) >= len(SECRETS)
    for line, (_, text, _) in zip(prompts, SECRETS, strict=False):
        line["message"]["content"] = f"Remember this for the deploy: {text}"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def _database_dump(settings) -> str:
    rows = []
    with get_engine(settings).connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                rows.append(repr([v.decode("latin-1") if isinstance(v, bytes) else v for v in row]))
    return "\n".join(rows)


def _redis_dump(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url)
    parts = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        value = {
            "string": lambda k: [client.get(k)],
            "list": lambda k: client.lrange(k, 0, -1),
            "hash": lambda k: [*client.hgetall(k).keys(), *client.hgetall(k).values()],
            "set": lambda k: list(client.smembers(k)),
            "zset": lambda k: [m for m, _ in client.zrange(k, 0, -1, withscores=True)],
        }.get(kind, lambda k: [])(key)
        parts.append(key.decode("latin-1"))
        parts.extend(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in value)
    client.close()
    return "\n".join(parts)


def _files_under(folder: Path, settings) -> str:
    """Every file under ``folder`` but the SQLite database and its journals (dumped through
    SQL instead: closing any descriptor of it drops this process's SQLite locks)."""
    database = make_url(settings.database_url).database or ""
    files = [
        path
        for path in folder.rglob("*")
        if path.is_file() and not (database and str(path).startswith(database))
    ]
    return "\n".join(path.read_bytes().decode("latin-1") for path in files)


def test_secrets_are_nowhere_after_saving_transcripts_full_of_them(
    flower_settings,
    flower,  # noqa: F811
    tmp_path,
):
    settings = flower_settings
    session = str(uuid.uuid4())
    transcript = tmp_path / f"{session}.jsonl"
    _secret_transcript(transcript, session)
    assert _leaks(transcript.read_text())  # the corpus really is in the transcript
    repo = make_repo(tmp_path / "repo")
    event = {
        "session_id": session,
        "transcript_path": str(transcript),
        "cwd": str(repo),
        "hook_event_name": "Stop",
    }

    # 1. The broker is down: the job waits in the spool, sealed.
    down = settings.with_overrides(broker_url="redis://127.0.0.1:1/0")
    assert run_hook(down, event).returncode == 0
    spooled = list((settings.home / "spool").glob("*.json"))
    assert spooled
    assert _leaks(_files_under(settings.home, settings)) == []

    # 2. The broker is back; a worker stores the job; Flower watches.
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        with transcript.open("a") as handle:  # more secrets, straight through the broker
            for line in transcript_lines(session, 3, start=len(SECRETS)):
                if isinstance(line["message"].get("content"), str):
                    line["message"]["content"] = f"and also {SECRETS[0][1]}"
                handle.write(json.dumps(line) + "\n")
        assert run_hook(settings, event).returncode == 0  # also flushes the spooled job

        def stored() -> bool:
            with session_scope(settings) as db:
                return len(db.scalars(select(SavedDelta.id)).all()) >= 2

        wait_until(stored, timeout=60, what="both deltas stored")
        with session_scope(settings) as db:
            assert db.scalars(select(ConversationContext.id)).first() is not None
        for query in ("deploy token key", "remember this", SECRETS[0][1]):
            service.search(settings, "Acme/Widget", query)  # fills the cache
        session_start.session_start_block(settings, "Acme/Widget")

        def tasks_listed() -> str | None:
            status, body = get(f"{flower}/api/tasks")
            return body if status == 200 and "recall.save_delta" in body else None

        flower_tasks = wait_until(tasks_listed, timeout=60, interval=0.5, what="Flower tasks")
    finally:
        worker.stop()

    base = settings.cache_url.rsplit("/", 1)[0]
    places = {
        "database": _database_dump(settings),
        "redis broker": _redis_dump(f"{base}/{BROKER_DB}"),
        "redis cache": _redis_dump(f"{base}/{CACHE_DB}"),
        "RECALL_HOME (spool, offsets, logs)": _files_under(settings.home, settings),
        "flower tasks": flower_tasks,
    }
    assert "[REDACTED:" in places["database"]  # the memory is there, redacted
    assert places["redis cache"]  # the cache was really used
    assert {place: _leaks(text) for place, text in places.items()} == {
        place: [] for place in places
    }
