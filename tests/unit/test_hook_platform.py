"""The hook on a platform it cannot serve (Windows: no SIGALRM, no fcntl) exits 0 and says why
in its log, a database with no tables yet reads as a hint, not a riddle, and a setting it
cannot parse is logged where the hook logs."""

from __future__ import annotations

import io
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


def test_a_database_without_tables_is_logged_with_its_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("RECALL_HOME", str(tmp_path))

    def unmigrated(event, settings, deadline):
        from sqlalchemy.exc import OperationalError

        raise OperationalError("SELECT 1", {}, Exception("no such table: projects"))

    monkeypatch.setattr(hook, "context_event", unmigrated)
    read, write = os.pipe()
    os.write(write, b'{"hook_event_name": "SessionStart", "cwd": "/"}')
    os.close(write)
    stdin = io.FileIO(read, "rb")
    assert hook.main(stdin=stdin, stdout=io.StringIO()) == 0
    logged = (tmp_path / "hook.log").read_text()
    assert "no tables yet" in logged and "recall db upgrade" in logged


def test_a_setting_the_hook_cannot_parse_is_logged_in_its_home(tmp_path, monkeypatch):
    monkeypatch.setenv("RECALL_HOME", str(tmp_path))
    monkeypatch.setenv("RECALL_HOOK_BUDGET_SECONDS", "9")
    stdin = io.BytesIO(b'{"hook_event_name": "Stop"}')
    assert hook.main(stdin=stdin, stdout=io.StringIO(), budget=5) == 0
    (line,) = (tmp_path / "hook.log").read_text().splitlines()
    assert line.endswith(
        "error: ValueError: RECALL_HOOK_BUDGET_SECONDS: expected seconds from 0.1 to 8, got '9'"
    )
