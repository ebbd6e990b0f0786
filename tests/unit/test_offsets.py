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


def _wait_for_jobs(spool: Path, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(list(spool.glob("*.json"))) < count and time.monotonic() < deadline:
        time.sleep(0.005)


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
    spool = home / "spool"
    with transcript.open("a") as handle:
        for i in range(600):
            handle.write(json.dumps({"type": "user", "message": {"content": f"line {i}"}}) + "\n")
            if i % 10 == 9:
                handle.flush()
                time.sleep(0.003)  # let the savers interleave with the writer
                if i < 80:
                    # the first batches each wait for a saver to take them (forked savers may
                    # start late on a busy machine): the savers surely run while lines arrive
                    _wait_for_jobs(spool, i // 10 + 1)
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


def _lines(*names: str) -> str:
    return "".join(json.dumps({"type": "user", "message": {"content": n}}) + "\n" for n in names)


def test_a_transcript_changed_under_the_offset_is_read_again_from_the_start(tmp_path):
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(_lines("one", "two", "three"))
    store = OffsetStore(tmp_path / "offsets")
    with store.locked("s") as offset:
        offset.set(transcript.stat().st_size, str(transcript))
    with transcript.open("a") as handle:
        handle.write(_lines("four"))  # appended: resume where it stopped
    with store.locked("s") as offset:
        assert offset.get_checked(str(transcript)) == len(_lines("one", "two", "three"))
    replaced = tmp_path / "new.jsonl"
    replaced.write_text(_lines("one", "two", "three", "four"))
    replaced.replace(transcript)  # the same bytes, another file: read again
    with store.locked("s") as offset:
        assert offset.get_checked(str(transcript)) == 0
        offset.set(transcript.stat().st_size, str(transcript))
    transcript.write_text(_lines("one", "TWO!", "three", "four"))  # rewritten, longer
    with store.locked("s") as offset:
        assert offset.get_checked(str(transcript)) == 0
    transcript.write_text(_lines("one"))  # truncated below the offset
    with store.locked("s") as offset:
        assert offset.get_checked(str(transcript)) == 0
    with store.locked("s") as offset:  # an offset written before fingerprints is trusted
        offset.set(7)
        assert offset.get_checked(str(transcript)) == 7


def test_when_the_offset_cannot_be_written_the_jobs_just_spooled_are_withdrawn(
    tmp_path, monkeypatch
):
    from contextrecall.client import offsets

    def disk_full(self, value, transcript=None):
        raise OSError(28, "No space left on device")

    transcript = tmp_path / "t.jsonl"
    transcript.write_text(_lines("one", "two"))
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path / "home")})
    monkeypatch.setattr(offsets.SessionOffset, "set", disk_full)
    with pytest.raises(OSError, match="No space left"):
        _spool(settings, transcript)
    assert list((tmp_path / "home" / "spool").glob("*.json")) == []
    monkeypatch.undo()
    ((_, job),) = _spool(settings, transcript)  # the next hook sends those lines, once
    assert job["delta"]["start"] == 0 and job["delta"]["end"] == transcript.stat().st_size


def _spool(settings: Settings, transcript: Path):
    return spool_new_deltas(
        settings,
        transcript=transcript,
        project={"name": "p", "identity": "name:p"},
        machine=None,
        session_external_id="s",
        source_format="claude",
        event="Stop",
    )


def test_a_line_the_session_holds_is_not_stored_again():
    from contextrecall.store.overlap import line_digests, lines_not_held

    held = line_digests([b'{"a": 1}\n{"a": 2}\n'])
    assert lines_not_held(b'{"a": 2}\n{"a": 3}\n{"a": 3}\n', held) == b'{"a": 3}\n'
    assert lines_not_held(b'{"a": 1}\r\n', held) == b""
    assert lines_not_held(b'{"a": 4}', held) == b'{"a": 4}'


def test_recall_save_on_a_full_disk_says_so_in_one_line_and_fails(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from contextrecall.cli import cli
    from contextrecall.client import offsets
    from contextrecall.settings import get_settings

    def disk_full(self, value, transcript=None):
        raise OSError(28, "No space left on device")

    transcript = tmp_path / "t.jsonl"
    transcript.write_text(_lines("one"))
    monkeypatch.setenv("RECALL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RECALL_WORKER_AUTOSTART", "0")
    get_settings.cache_clear()
    monkeypatch.setattr(offsets.SessionOffset, "set", disk_full)
    result = CliRunner().invoke(cli, ["save", str(transcript), "--project", "p"])
    get_settings.cache_clear()
    assert result.exit_code != 0
    (line,) = [text for text in result.output.splitlines() if "space" in text]
    assert "no space left on the device" in line
    assert list((tmp_path / "home" / "spool").rglob("*.json")) == []


def _saved_lines(settings: Settings, transcript: Path) -> list[str]:
    """What one save of ``transcript`` spools: its lines' contents."""
    spooled = _spool(settings, transcript)
    ring = load_key_ring(settings)
    text = b"".join(decode_delta_text(job, ring) for _, job in spooled).decode()
    return [json.loads(line)["message"]["content"] for line in text.splitlines() if line]


def test_a_last_line_without_its_newline_is_taken_when_whole_and_never_twice(tmp_path):
    """A transcript copied or imported whole may end without a newline: its last line is kept.
    A line still being written is left until it is whole; a newline written after a line
    already taken adds nothing."""
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path / "home")})
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(_lines("one") + _lines("two").rstrip("\n"))
    assert _saved_lines(settings, transcript) == ["one", "two"]
    whole = _lines("three")
    with transcript.open("a") as handle:
        handle.write("\n" + whole[:20])  # the newline, then half of the next line
    assert _saved_lines(settings, transcript) == []
    with transcript.open("a") as handle:
        handle.write(whole[20:])
    assert _saved_lines(settings, transcript) == ["three"]
