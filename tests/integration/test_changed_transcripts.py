"""Every line of a transcript is stored exactly once, whatever happens to the transcript or
to the jobs: deltas that overlap (the hook killed between its spool and offset writes), a
transcript truncated or rewritten under the offset, deltas arriving out of order. Through the
hook's own spooling and the worker's save, on each backend."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from contextrecall.client.deltas import Delta
from contextrecall.client.offsets import OffsetStore
from contextrecall.client.outbox import spool_new_deltas
from contextrecall.client.spool import Spool
from contextrecall.crypto import associated_data, load_key_ring
from contextrecall.db import session_scope
from contextrecall.jobs import build_job
from contextrecall.models import SavedDelta
from contextrecall.settings import Settings
from contextrecall.store.memory_rows import DuplicateDelta
from contextrecall.store.save_job import save_job

PROJECT = {"name": "shop", "identity": "name:shop"}


def line(name: str) -> str:
    return json.dumps({"type": "user", "uuid": name, "message": {"content": f"said {name}"}})


def write(path: Path, *names: str, mode: str = "w") -> None:
    with path.open(mode) as handle:
        handle.write("".join(line(n) + "\n" for n in names))


def hook(settings: Settings, transcript: Path) -> int:
    """What a hook and a worker do: spool the new slice, then store each job; the jobs."""
    jobs = spool_new_deltas(
        settings,
        transcript=transcript,
        project=PROJECT,
        machine=None,
        session_external_id="s1",
        source_format="claude",
        event="Stop",
    )
    for path, job in jobs:
        store(settings, job)
        Spool(settings.spool_dir).remove(path)
    return len(jobs)


def store(settings: Settings, job: dict) -> None:
    try:
        with session_scope(settings) as db:
            save_job(db, job, load_key_ring(settings))
    except DuplicateDelta:
        pass


def stored_names(settings: Settings) -> list[str]:
    """The lines the session holds, across all its stored deltas."""
    ring = load_key_ring(settings)
    with session_scope(settings) as db:
        rows = db.scalars(select(SavedDelta).order_by(SavedDelta.created_at)).all()
        texts = [
            ring.decrypt(r.payload, associated_data(r.project_id, r.session_id, "delta"))
            for r in rows
        ]
    return [json.loads(raw)["uuid"] for text in texts for raw in text.splitlines()]


def forget_offset(settings: Settings, transcript: Path) -> None:
    """As if the hook died after writing its spool file, before moving the offset."""
    key = f"{PROJECT['identity']}\0s1\0{transcript}"
    with OffsetStore(settings.location("offsets")).locked(key) as offset:
        offset.set(0)


def test_an_overlapping_delta_stores_only_its_new_lines(backend, tmp_path):
    settings = backend.with_overrides(home=tmp_path / "home")
    transcript = tmp_path / "t.jsonl"
    write(transcript, "a", "b", "c")
    hook(settings, transcript)
    forget_offset(settings, transcript)
    write(transcript, "d", mode="a")
    hook(settings, transcript)  # a, b, c again with d: a new hash, the same lines
    assert sorted(stored_names(settings)) == ["a", "b", "c", "d"]


def test_a_truncated_transcript_is_read_again_and_nothing_is_lost_or_doubled(backend, tmp_path):
    settings = backend.with_overrides(home=tmp_path / "home")
    transcript = tmp_path / "t.jsonl"
    write(transcript, "a", "b", "c", "d")
    hook(settings, transcript)
    write(transcript, "a", "e")  # the agent cut the transcript and went on
    assert hook(settings, transcript) == 1
    assert sorted(stored_names(settings)) == ["a", "b", "c", "d", "e"]


def test_a_rewritten_longer_transcript_stores_only_what_changed(backend, tmp_path):
    settings = backend.with_overrides(home=tmp_path / "home")
    transcript = tmp_path / "t.jsonl"
    write(transcript, "a", "b", "c")
    hook(settings, transcript)
    write(transcript, "a", "b2", "c", "d", "e")  # rewritten: never resumed mid-line
    hook(settings, transcript)
    assert sorted(stored_names(settings)) == ["a", "b", "b2", "c", "d", "e"]


def test_deltas_arriving_out_of_order_store_each_line_once(backend, tmp_path):
    settings = backend.with_overrides(home=tmp_path / "home")
    text = "".join(line(n) + "\n" for n in "abcd").encode()
    cut = len(line("a")) + 1

    def job(start: int, end: int) -> dict:
        return build_job(
            project=PROJECT,
            machine=None,
            session_external_id="s1",
            source_format="claude",
            delta=Delta(start, end, text[start:end]),
            event="Stop",
            ring=load_key_ring(settings),
        )

    store(settings, job(cut, len(text)))  # b, c, d first
    store(settings, job(0, len(text) - cut))  # then a, b, c
    store(settings, job(0, len(text)))  # and everything again
    assert sorted(stored_names(settings)) == ["a", "b", "c", "d"]
