"""The hook on a platform it cannot serve (Windows: no SIGALRM, no fcntl) exits 0 and says why
in its log, and a database with no tables yet reads as a hint, not a riddle."""

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
