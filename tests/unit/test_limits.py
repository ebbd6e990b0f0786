"""Limits with clear messages: an over-long transcript line is skipped, counted and reported;
the lines around it are kept."""

from __future__ import annotations

import io
import json
import os
import tempfile
import time

import pytest

from contextrecall import hook
from contextrecall.client import deltas as delta
from contextrecall.client.outbox import spool_new_deltas
from contextrecall.crypto import load_key_ring
from contextrecall.jobs import decode_delta_text
from contextrecall.settings import Settings


def _transcript(path) -> None:
    lines = [
        {"type": "user", "message": {"content": "before the long line"}},
        {"type": "user", "message": {"content": "x" * 5000}},
        {"type": "user", "message": {"content": "after the long line"}},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_an_overlong_line_is_skipped_counted_and_its_neighbours_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(delta, "MAX_LINE_BYTES", 1000)
    transcript = tmp_path / "t.jsonl"
    _transcript(transcript)
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path / "home")})
    heard: list[int] = []
    spooled = spool_new_deltas(
        settings,
        transcript=transcript,
        project={"name": "p", "identity": "name:p"},
        machine=None,
        session_external_id="s",
        source_format="claude",
        event="Stop",
        on_dropped=heard.append,
    )
    assert heard == [1]
    ring = load_key_ring(settings)
    text = b"".join(decode_delta_text(job, ring) for _, job in spooled).decode()
    assert "before the long line" in text and "after the long line" in text
    assert "x" * 1001 not in text


def test_the_hook_reports_skipped_lines_in_its_log(tmp_path, monkeypatch):
    monkeypatch.setattr(delta, "MAX_LINE_BYTES", 1000)
    home = tmp_path / "home"
    monkeypatch.setenv("RECALL_HOME", str(home))
    monkeypatch.setenv("RECALL_BROKER_URL", "redis://127.0.0.1:9/0")  # refused: jobs stay spooled
    transcript = tmp_path / "t.jsonl"
    _transcript(transcript)
    event = {
        "hook_event_name": "Stop",
        "session_id": "s",
        "transcript_path": str(transcript),
        "cwd": str(tmp_path),
    }
    with tempfile.TemporaryFile() as stdin:
        stdin.write(json.dumps(event).encode())
        stdin.seek(0)
        assert hook.main(stdin=stdin, stdout=io.StringIO(), budget=5) == 0
    log = (home / "hook.log").read_text()
    assert f"skipped 1 line(s) over 1000 bytes in {transcript}" in log
    assert list((home / "spool").glob("*.json"))  # the rest was saved


@pytest.mark.parametrize("budget", ["0.2", "1.5"])
def test_the_hook_keeps_to_the_budget_its_setting_gives(budget, tmp_path, monkeypatch):
    """A hook whose stdin is never closed gives up at its budget (RECALL_HOOK_BUDGET_SECONDS):
    not before it, and (in process, with no start-up to pay) soon after it: the bound is loose, as
    the unit tests also run at the lowest CPU priority beside the suite (.ci/other-pythons)."""
    monkeypatch.setenv("RECALL_HOME", str(tmp_path))
    monkeypatch.setenv("RECALL_HOOK_BUDGET_SECONDS", budget)
    read, write = os.pipe()
    try:
        started = time.monotonic()
        assert hook.main(stdin=io.FileIO(read, "rb", closefd=False), stdout=io.StringIO()) == 0
        elapsed = time.monotonic() - started
    finally:
        os.close(read)
        os.close(write)
    assert float(budget) <= elapsed < float(budget) + 3
    # the read gives up at the budget; on a starved CPU the watchdog, 50 ms later, may be first
    log = (tmp_path / "hook.log").read_text()
    assert "stdin was not closed in time" in log or "timed out; unsent jobs stay" in log, log


def test_the_watchdog_firing_while_a_failure_is_read_still_returns_and_logs(tmp_path, monkeypatch):
    """The budget can run out while the hook reads what went wrong (a loaded CI machine): the
    watchdog's exception must not escape the hook, and the failure is still logged."""
    monkeypatch.setenv("RECALL_HOME", str(tmp_path))

    def fails(*_args: object) -> None:
        raise RuntimeError("the store is down")

    def slow_reading(_exc: Exception) -> bool:
        time.sleep(1)  # the watchdog (budget + 50 ms) fires in here
        return False

    monkeypatch.setattr(hook, "handle", fails)
    monkeypatch.setattr(hook, "_missing_schema", slow_reading)
    with tempfile.TemporaryFile() as stdin:
        stdin.write(b'{"hook_event_name": "Stop"}')
        stdin.seek(0)
        assert hook.main(stdin=stdin, stdout=io.StringIO(), budget=0.1) == 0
    assert "timed out; unsent jobs stay in the spool" in (tmp_path / "hook.log").read_text()
