"""The plugin's `recall` launcher (plugin/bin/recall): runs the environment it built when that
was built for this plugin version; otherwise a hook keeps its input for the build to replay
and exits 0 at once, and the build runs in the background (issue 29)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "plugin" / "bin" / "recall"
EVENT = {"session_id": "s1", "hook_event_name": "Stop", "transcript_path": "/nowhere.jsonl"}


def built_for() -> str:
    """What the launcher writes into an environment it built: the plugin's version and files."""
    files = [ROOT / ".claude-plugin" / "plugin.json", ROOT / "pyproject.toml"]
    joined = b"".join(path.read_bytes() for path in files)
    return subprocess.run(["cksum"], input=joined, capture_output=True, check=True).stdout.decode()


def launch(data: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = {"HOME": str(data.parent), "PATH": path or os.environ["PATH"]}
    env["CLAUDE_PLUGIN_DATA"] = str(data)
    return subprocess.run(
        ["sh", str(LAUNCHER), *args], input=json.dumps(EVENT), env=env, capture_output=True,
        text=True, timeout=30,
    )  # fmt: skip


def without_python(folder: Path) -> str:
    """A PATH with no Python 3.11 or later: a build started there fails at once."""
    folder.mkdir()
    for name in ("python3.13", "python3.12", "python3.11", "python3"):
        (folder / name).write_text("#!/bin/sh\nexit 1\n")
        (folder / name).chmod(0o755)
    return f"{folder}:/usr/bin:/bin"


def fake_environment(data: Path, stamp: str) -> None:
    recall = data / "env" / "bin" / "recall"
    recall.parent.mkdir(parents=True)
    recall.write_text('#!/bin/sh\necho "built recall $*"; cat\n')
    recall.chmod(0o755)
    (data / "env" / ".built-for").write_text(stamp)


def test_an_environment_built_for_this_version_runs_the_command(tmp_path):
    data = tmp_path / "data"
    fake_environment(data, built_for())
    done = launch(data, "hook")
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["built recall hook", json.dumps(EVENT)]  # stdin passed


def test_after_a_plugin_update_a_hook_keeps_its_input_and_never_waits_for_the_build(tmp_path):
    """An environment built for another version is not used: the hook's input waits under
    pending/ for the build (here one that cannot find Python 3.11, so it fails at once and
    says so in build.log, leaving the input kept for the next try)."""
    data = tmp_path / "data"
    fake_environment(data, "built for 0.0.9\n")
    started = time.monotonic()
    done = launch(data, "hook", path=without_python(tmp_path / "bin"))
    assert done.returncode == 0 and done.stdout == "" and time.monotonic() - started < 5
    (kept,) = (data / "pending").glob("*.json")
    assert json.loads(kept.read_text()) == EVENT
    log = data / "build.log"
    deadline = time.monotonic() + 20
    lock = data / "building"

    def finished() -> bool:  # the build says so in its log, then lets go of its lock
        return log.exists() and "failed" in log.read_text() and not lock.exists()

    while time.monotonic() < deadline and not finished():
        time.sleep(0.1)
    assert "no Python 3.11 or later on PATH" in log.read_text()
    assert not lock.exists()  # the lock goes with the build
    assert list((data / "pending").glob("*.json")) == [kept]


def test_the_mcp_server_is_not_started_until_the_environment_is_ready(tmp_path):
    data = tmp_path / "data"
    done = launch(data, "mcp", path=without_python(tmp_path / "bin"))
    assert done.returncode == 1
    assert "preparing its environment" in done.stderr


def test_a_command_waits_for_the_build_another_process_runs(tmp_path):
    """`recall status` while a hook's build runs: it waits for that build, then runs."""
    data = tmp_path / "data"
    (data / "building").mkdir(parents=True)  # a build under way
    env = {"HOME": str(tmp_path), "PATH": without_python(tmp_path / "bin")}
    waiting = subprocess.Popen(
        ["sh", str(LAUNCHER), "status"], env={**env, "CLAUDE_PLUGIN_DATA": str(data)},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1.5)
    assert waiting.poll() is None  # still waiting
    fake_environment(data, built_for())  # the other build finishes
    (data / "building").rmdir()
    out, _ = waiting.communicate(timeout=20)
    assert waiting.returncode == 0 and out.splitlines()[0] == "built recall status"
