"""Batch `recall save`: a progress bar on a terminal, nothing but the summary otherwise.

The broker is the serverless filesystem transport, so no service is needed; the terminal is a
real pseudo-terminal from the ``pty`` module.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contextrecall.settings import Settings
from tests.integration.test_write_path import transcript_lines, write_transcript
from tests.integration.workers import settings_env

FILES = 6


@pytest.fixture
def batch(tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    settings = Settings.from_env(
        {"RECALL_HOME": str(tmp_path / "home"), "RECALL_BROKER_URL": "filesystem://"}
    )
    paths = []
    for i in range(FILES):
        path = tmp_path / f"session-{i}.jsonl"
        write_transcript(path, transcript_lines(f"session-{i}", 2))
        paths.append(str(path))
    return settings_env(settings), paths


def save_command(paths: list[str]) -> list[str]:
    return [sys.executable, "-m", "contextrecall.cli", "save", "--project", "batch", *paths]


def test_batch_save_is_quiet_when_not_on_a_terminal(batch):
    env, paths = batch
    result = subprocess.run(
        save_command(paths), env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == f"enqueued {FILES} job(s) from {FILES} file(s)"


def run_on_a_terminal(command: list[str], env: dict[str, str], timeout: float = 120) -> str:
    """Run ``command`` with stdin, stdout and stderr on a new pseudo-terminal; its output."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        command, env={**env, "TERM": "xterm"}, stdin=follower, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                data = os.read(leader, 4096)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert process.wait(timeout=max(1, deadline - time.monotonic())) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_batch_save_shows_a_progress_bar_on_a_terminal(batch):
    env, paths = batch
    output = run_on_a_terminal(save_command(paths), env)
    assert "saving" in output
    assert "100%" in output
    assert "[" in output and "#" in output
    assert f"enqueued {FILES} job(s) from {FILES} file(s)" in output
