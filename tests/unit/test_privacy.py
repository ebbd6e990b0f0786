"""Privacy at capture (issue 30): what a prompt marks <private> never leaves the hook, and a
project that opted out (a `.no-recall` file, or RECALL_EXCLUDE_PATHS) gets nothing stored and
nothing injected."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from contextrecall import hook
from contextrecall.client.opt_out import MARKER, opted_out
from contextrecall.crypto import load_key_ring
from contextrecall.jobs import decode_delta_text
from contextrecall.settings import Settings

PROMPT = "Deploy it. <private>My home address is 12 Elm Street.</private> Use port 8443."


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A RECALL_HOME whose broker never answers: a saved job stays in the spool to read."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("RECALL_HOME", str(tmp_path / "recall"))
    monkeypatch.setenv("RECALL_CONFIG", str(tmp_path / "none.env"))
    monkeypatch.setenv("RECALL_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("RECALL_WORKER_AUTOSTART", "0")
    return tmp_path / "recall"


def repository(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "src").mkdir()
    return root


def run(event: dict) -> str:
    read, write = os.pipe()
    os.write(write, json.dumps(event).encode())
    os.close(write)
    out = io.StringIO()
    assert hook.main(stdin=io.FileIO(read, "rb"), stdout=out) == 0
    return out.getvalue()


def stop_event(repo: Path, tmp_path: Path) -> dict:
    transcript = tmp_path / "session.jsonl"
    line = {"type": "user", "sessionId": "s1", "message": {"role": "user", "content": PROMPT}}
    transcript.write_text(json.dumps(line) + "\n")
    return {
        "session_id": "s1",
        "transcript_path": str(transcript),
        "cwd": str(repo / "src"),
        "hook_event_name": "Stop",
    }


def spooled_jobs(home: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in (home / "spool").rglob("*.json")]


def test_a_private_span_in_a_prompt_never_reaches_the_spool(home, tmp_path):
    repo = repository(tmp_path / "app")
    run(stop_event(repo, tmp_path))
    (job,) = spooled_jobs(home)
    text = decode_delta_text(job, load_key_ring(Settings.from_env())).decode()
    assert "Elm Street" not in text and "home address" not in text
    assert "Deploy it. [REDACTED:private] Use port 8443." in text


def test_a_project_with_the_marker_gets_nothing_stored_nor_injected(home, tmp_path):
    repo = repository(tmp_path / "app")
    (repo / MARKER).touch()
    assert run(stop_event(repo, tmp_path)) == ""
    start = {"session_id": "s1", "cwd": str(repo / "src"), "hook_event_name": "SessionStart"}
    assert run(start) == ""
    assert spooled_jobs(home) == [] and not (home / "waiting").exists()
    assert not (home / "hook.log").exists()


def test_opting_out_by_marker_or_by_glob(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    repo = repository(tmp_path / "work" / "app")
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path / "recall")})
    assert not opted_out(str(repo / "src"), settings)
    (repo / "src" / MARKER).touch()  # a folder between the top level and the session's
    assert opted_out(str(repo / "src"), settings) and not opted_out(str(repo), settings)
    (repo / "src" / MARKER).unlink()
    (tmp_path / "work" / MARKER).touch()  # above the repository: not its concern
    assert not opted_out(str(repo / "src"), settings)
    excluded = Settings.from_env(
        {"RECALL_HOME": str(tmp_path / "recall"), "RECALL_EXCLUDE_PATHS": "/nowhere, ~/work/*"}
    )
    assert opted_out(str(repo / "src"), excluded)  # the top level matches the glob
    assert not opted_out(str(tmp_path / "elsewhere"), excluded)
