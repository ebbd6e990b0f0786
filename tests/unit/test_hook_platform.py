"""The hook on a platform it cannot serve (Windows: no SIGALRM, no fcntl) exits 0 and says why
in its log, events with nothing to give or save (a database with no tables yet, a session
never written) are no errors, and a setting it cannot parse is logged where the hook logs."""

from __future__ import annotations

import io
import json
import os
import types

from contextrecall import hook


def test_without_sigalrm_the_hook_exits_zero_and_logs_why(tmp_path, monkeypatch):
    monkeypatch.setenv("RECALL_HOME", str(tmp_path))
    no_alarm = types.SimpleNamespace()  # what `_signal` offers on Windows: no SIGALRM
    monkeypatch.setattr(hook, "signal", no_alarm)
    stdin = io.BytesIO(b'{"hook_event_name": "Stop"}')
    stdin.fileno = lambda: 0  # never read: the hook gives up first
    assert hook.main(stdin=stdin, stdout=io.StringIO()) == 0
    assert "unsupported platform" in (tmp_path / "hook.log").read_text()


def run_main(event: bytes) -> int:
    read, write = os.pipe()
    os.write(write, event)
    os.close(write)
    return hook.main(stdin=io.FileIO(read, "rb"), stdout=io.StringIO())


def test_a_session_start_before_the_schema_exists_answers_nothing_quietly(tmp_path, monkeypatch):
    """The first session start of a fresh install comes before its worker made the tables:
    nothing to recall, and no error to show (issue 29)."""
    monkeypatch.setenv("RECALL_HOME", str(tmp_path))
    raised = []

    def unmigrated(event, settings, deadline):
        from sqlalchemy.exc import OperationalError

        raised.append(event)
        raise OperationalError("SELECT 1", {}, Exception("no such table: projects"))

    monkeypatch.setattr(hook, "context_event", unmigrated)
    assert run_main(b'{"hook_event_name": "SessionStart", "cwd": "/"}') == 0
    assert raised and not (tmp_path / "hook.log").exists()


def test_a_session_end_for_a_session_never_written_saves_nothing_quietly(tmp_path, monkeypatch):
    """`claude mcp list` (Claude Code 2.1.197) fires SessionEnd naming a transcript, in a
    folder, that never exists: nothing to save, nothing waiting, nothing logged."""
    monkeypatch.setenv("RECALL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RECALL_WORKER_AUTOSTART", "0")
    missing = tmp_path / ".claude/projects/-proj/9f47d3e7.jsonl"
    event = {
        "session_id": "9f47d3e7",
        "transcript_path": str(missing),
        "cwd": str(tmp_path),
        "hook_event_name": "SessionEnd",
        "reason": "other",
    }
    assert run_main(json.dumps(event).encode()) == 0
    assert not (tmp_path / "home" / "hook.log").exists()
    assert not list((tmp_path / "home").rglob("*.json"))  # no waiting record, no job
    stop = {**event, "hook_event_name": "Stop"}  # a turn's transcript not written yet waits
    assert run_main(json.dumps(stop).encode()) == 0
    assert len(list((tmp_path / "home" / "waiting").glob("*.json"))) == 1


def test_a_setting_the_hook_cannot_parse_is_logged_in_its_home(tmp_path, monkeypatch):
    monkeypatch.setenv("RECALL_HOME", str(tmp_path))
    monkeypatch.setenv("RECALL_HOOK_BUDGET_SECONDS", "9")
    stdin = io.BytesIO(b'{"hook_event_name": "Stop"}')
    assert hook.main(stdin=stdin, stdout=io.StringIO(), budget=5) == 0
    (line,) = (tmp_path / "hook.log").read_text().splitlines()
    assert line.endswith(
        "error: ValueError: RECALL_HOOK_BUDGET_SECONDS: expected seconds from 0.1 to 8, got '9'"
    )
