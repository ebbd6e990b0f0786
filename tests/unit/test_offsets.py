"""Per-session offsets: concurrent saves of one session never enqueue a line twice or skip one."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest

from contextrecall.client.offsets import OffsetBusy, OffsetStore
from contextrecall.client.outbox import spool_new_deltas
from contextrecall.crypto import load_key_ring
from contextrecall.jobs import SEALED, decode_delta_text
from contextrecall.settings import Settings


def test_a_held_lock_makes_another_saver_wait_then_give_up(tmp_path):
    store = OffsetStore(tmp_path)
    with store.locked("s1") as offset:
        offset.set(42)
        with pytest.raises(OffsetBusy), store.locked("s1", wait=0.05):
            pass
        with store.locked("s2", wait=0.05) as other:  # other sessions are not blocked
            assert other.get() == 0
    with store.locked("s1") as offset:
        assert offset.get() == 42


def _save(home: str, transcript: str, stop: str | None) -> None:
    """Save the transcript again and again until ``stop`` exists (once when it is None)."""
    settings = Settings.from_env({"RECALL_HOME": home})
    while True:
        done = stop is None or Path(stop).exists()
        while True:
            try:
                spool_new_deltas(
                    settings,
                    transcript=Path(transcript),
                    project={"name": "p", "identity": "name:p"},
                    machine=None,
                    session_external_id="s",
                    source_format="claude",
                    event="Stop",
                    lock_wait=5,
                )
                break
            except OffsetBusy:
                continue
        if done:
            return


def test_concurrent_saves_of_one_session_take_every_line_once(tmp_path):
    transcript = tmp_path / "t.jsonl"
    transcript.write_text("")
    home = tmp_path / "home"
    context = multiprocessing.get_context("fork")
    stop = tmp_path / "stop"
    savers = [
        context.Process(target=_save, args=(str(home), str(transcript), str(stop)))
        for _ in range(4)
    ]
    for saver in savers:
        saver.start()
    with transcript.open("a") as handle:
        for i in range(600):
            handle.write(json.dumps({"type": "user", "message": {"content": f"line {i}"}}) + "\n")
            if i % 10 == 9:
                handle.flush()
                time.sleep(0.003)  # let the savers interleave with the writer
    stop.touch()
    for saver in savers:
        saver.join(timeout=60)
    assert all(saver.exitcode == 0 for saver in savers)
    _save(str(home), str(transcript), None)  # whatever is left
    jobs = list((home / "spool").glob("*.json"))
    assert len(jobs) > 4  # the savers really ran while lines were being written
    seen: list[str] = []
    ring = load_key_ring(Settings.from_env({"RECALL_HOME": str(home)}))
    for job_file in jobs:
        job = json.loads(job_file.read_text())
        assert job["delta"]["encoding"] == SEALED  # the spool holds ciphertext only
        text = decode_delta_text(job, ring).decode()
        seen += [json.loads(line)["message"]["content"] for line in text.splitlines()]
    assert sorted(seen, key=lambda s: int(s.split()[1])) == [f"line {i}" for i in range(600)]
