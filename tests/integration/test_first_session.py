"""From install to memory, as a new user meets it: a fresh HOME with no RECALL_* variables,
`recall install`, then Claude Code's own hook commands exactly as install wrote them, run from
a git repository on a real transcript. Nothing is started by hand: the hook starts a worker,
the worker creates the database, and the next session starts with the first one's request.
The same again with the configuration file pointing at MariaDB and Redis; and twenty hooks at
once start one worker, which stops when idle."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from contextrecall.client.autostart import worker_alive
from contextrecall.install.merge import is_recall_hook
from contextrecall.settings import Settings
from tests.integration.workers import RECALL, recall
from tests.support import shared_transcript

TRANSCRIPT = "claude-code-2.1/tool_heavy.jsonl"
REDIS_DB = 12  # this module's own Redis database, flushed before and after


def fresh_user(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A new account's environment: a fresh HOME, and none of Context Recall's variables."""
    home = tmp_path / "home"
    home.mkdir()
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "PYTHONPATH")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    return {**env, "HOME": str(home), **extra}


def git_repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    remote = f"https://github.com/example/first-session-{uuid.uuid4().hex[:8]}.git"
    subprocess.run(["git", "remote", "add", "origin", remote], cwd=repo, check=True)
    return repo


def hook_commands(env: dict[str, str]) -> dict[str, str]:
    """The command of our hook for each event, read from the settings file install wrote."""
    settings = json.loads((Path(env["HOME"]) / ".claude" / "settings.json").read_text())
    commands = {}
    for event, groups in settings["hooks"].items():
        for group in groups:
            for entry in group["hooks"]:
                if is_recall_hook(entry):
                    commands[event] = entry["command"]
    return commands


def run_hook(command: str, event: dict, env: dict[str, str], cwd: Path) -> str:
    """One hook as Claude Code runs it: the command through a shell, the event on stdin."""
    result = subprocess.run(
        ["sh", "-c", command],
        input=json.dumps(event),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def context_of(output: str) -> str:
    return json.loads(output)["hookSpecificOutput"]["additionalContext"] if output else ""


def first_request(path: Path) -> str:
    from contextrecall.compression import compress_file

    return compress_file(path).first_request


def the_first_session(tmp_path: Path, env: dict[str, str]) -> None:
    """Install, one session through every hook, then wait for the next session's context."""
    repo = git_repository(tmp_path)
    source = shared_transcript(TRANSCRIPT)
    transcript = Path(env["HOME"]) / ".claude" / "projects" / "-repo" / "s1.jsonl"
    transcript.parent.mkdir(parents=True)
    shutil.copyfile(source, transcript)
    asked = first_request(transcript)
    assert asked

    installed = recall(env, repo, "install", "--scope", "user")
    assert "installed" in installed.stdout
    commands = hook_commands(env)
    assert {"SessionStart", "UserPromptSubmit", "Stop", "SessionEnd"} <= set(commands)

    base = {"session_id": "s1", "transcript_path": str(transcript), "cwd": str(repo)}
    run_hook(commands["SessionStart"], {**base, "hook_event_name": "SessionStart"}, env, repo)
    run_hook(
        commands["UserPromptSubmit"],
        {**base, "hook_event_name": "UserPromptSubmit", "prompt": asked},
        env,
        repo,
    )
    run_hook(commands["Stop"], {**base, "hook_event_name": "Stop"}, env, repo)
    run_hook(commands["SessionEnd"], {**base, "hook_event_name": "SessionEnd"}, env, repo)

    settings = Settings.from_env(env)
    next_session = {
        "session_id": "s2",
        "transcript_path": str(transcript.with_name("s2.jsonl")),
        "cwd": str(repo),
        "hook_event_name": "SessionStart",
        "source": "startup",
    }
    context, deadline = "", time.monotonic() + 60
    while asked not in context and time.monotonic() < deadline:
        time.sleep(1)
        context = context_of(run_hook(commands["SessionStart"], next_session, env, repo))
    log = Path(settings.location("hook.log"))
    assert asked in context, (context, log.read_text() if log.exists() else "")
    assert worker_alive(settings)

    status = recall(env, repo, "status")
    assert "worker    alive" in status.stdout and "hooks     user:" in status.stdout

    recall(env, repo, "uninstall", "--scope", "user")
    assert not worker_alive(settings)
    user_settings = Path(env["HOME"]) / ".claude" / "settings.json"
    assert not user_settings.exists() or hook_commands(env) == {}


def test_a_new_users_first_session_is_remembered_on_the_embedded_defaults(tmp_path):
    env = fresh_user(tmp_path)
    the_first_session(tmp_path, env)
    home = Path(env["HOME"]) / ".local" / "share" / "contextrecall"
    assert (home / "recall.db").is_file()  # created and migrated by the worker


@pytest.mark.mariadb
@pytest.mark.redis
def test_the_same_with_the_configuration_file_pointing_at_mariadb_and_redis(
    tmp_path, empty_mariadb_url, redis_server
):
    import redis

    server = f"{redis_server}/{REDIS_DB}"
    redis.Redis.from_url(server).flushdb()
    env = fresh_user(tmp_path)
    try:
        repo = tmp_path
        recall(env, repo, "config", "set", "RECALL_DATABASE_URL", empty_mariadb_url)
        recall(env, repo, "config", "set", "RECALL_BROKER_URL", server)
        recall(env, repo, "config", "set", "RECALL_CACHE_URL", server)
        shown = recall(env, repo, "config", "--json")
        sources = {row["variable"]: row["source"] for row in json.loads(shown.stdout)["settings"]}
        assert sources["RECALL_DATABASE_URL"] == sources["RECALL_BROKER_URL"] == "file"
        the_first_session(tmp_path, env)
    finally:
        redis.Redis.from_url(server).flushdb()


def worker_processes(home: Path) -> list[int]:
    """Pids of `recall worker` processes whose environment has this HOME."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"contextrecall.cli\0worker" in command and f"HOME={home}".encode() in environ:
            found.append(int(entry.name))
    return found


def _saved_deltas(settings: Settings, wanted: int) -> int:
    """How many transcript deltas the embedded database holds, once there are ``wanted`` or
    after a minute."""
    import sqlite3

    database = Path(settings.location("recall.db"))
    deadline, stored = time.monotonic() + 60, 0
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(database) as connection:
                stored = connection.execute("SELECT COUNT(*) FROM saved_deltas").fetchone()[0]
        except sqlite3.OperationalError:  # not migrated yet
            stored = 0
        if stored >= wanted:
            break
        time.sleep(0.5)
    return stored


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="counts processes through /proc")
def test_twenty_hooks_at_once_start_one_worker_which_stops_when_idle(tmp_path):
    env = fresh_user(tmp_path, RECALL_WORKER_IDLE_SECONDS="4")
    repo = git_repository(tmp_path)
    source = shared_transcript("claude-code-2.1/short.jsonl")
    events = []
    for n in range(20):
        transcript = tmp_path / f"session-{n}.jsonl"
        shutil.copyfile(source, transcript)
        events.append(
            {
                "session_id": f"s{n}",
                "transcript_path": str(transcript),
                "cwd": str(repo),
                "hook_event_name": "Stop",
            }
        )
    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(lambda event: run_hook(f"{RECALL} hook", event, env, repo), events))
    settings = Settings.from_env(env)
    assert worker_alive(settings)
    time.sleep(2)  # a second worker, had one been started, would be running by now
    assert len(worker_processes(Path(env["HOME"]))) == 1

    stored = _saved_deltas(settings, 20)
    log = Path(settings.location("hook.log"))
    if stored < 20 and "timed out" in (log.read_text() if log.exists() else ""):
        # Twenty interpreters at once on a small machine: a hook that ran out of its time
        # budget before it spooled its job left the session's offset where it was, so the
        # session's next Stop sends it. Each session stops once more, as its next turn would.
        for event in events:
            run_hook(f"{RECALL} hook", event, env, repo)
        stored = _saved_deltas(settings, 20)
    assert stored == 20  # every session once: none lost, none stored twice

    deadline = time.monotonic() + 30
    # an exiting process loses its command line a moment before it closes its files
    while (worker_processes(Path(env["HOME"])) or worker_alive(settings)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.5)
    assert worker_processes(Path(env["HOME"])) == []
    assert not worker_alive(settings)
