"""The real Claude Code CLI, run as a new user would: a private HOME, `recall install`, then
`claude -p` against the local stand-in for the model's API (``model_api``).

The version is the one ``package.json`` here pins; ``.ci/clients`` installs it from npm
into a cache outside the clone (``RECALL_TEST_CLIENTS``), where these helpers find it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.clients.model_api import ModelAPI
from tests.integration.workers import recall
from tests.support import require

HERE = Path(__file__).resolve().parent
PINNED = json.loads((HERE / "package.json").read_text())["dependencies"]
RUN_SECONDS = 120


def clients_folder() -> Path:
    """Where ``.ci/clients`` installs the pinned agents."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("RECALL_TEST_CLIENTS") or Path(cache) / "contextrecall" / "clients")


def pinned_binary(command: str, name: str, package: str) -> str:
    """The pinned client ``command`` of npm ``package`` (skipped, or under CI failed, when it
    is not installed at that version)."""
    binary = clients_folder() / "node_modules" / ".bin" / command
    wanted, shown = PINNED[package], ""
    if binary.exists():
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
        shown = done.stdout
    require(wanted in shown.split(), f"{name} {wanted} in {binary.parent} (run .ci/clients)")
    return str(binary)


def claude_binary() -> str:
    return pinned_binary("claude", "Claude Code", "@anthropic-ai/claude-code")


def on_backend(user: ClaudeUser, request: Any, redis_db: int) -> None:
    """For the "mariadb" parameter of ``request``: the configuration file names a MariaDB
    database of the test's own and Redis ``redis_db`` (broker and cache), flushed around it."""
    if request.param != "mariadb":
        return
    from tests.support import flush_redis

    server = f"{request.getfixturevalue('redis_server')}/{redis_db}"
    flush_redis(server)
    request.addfinalizer(lambda: flush_redis(server))
    user.recall(
        "config", "set", "RECALL_DATABASE_URL", request.getfixturevalue("empty_mariadb_url")
    )
    for name in ("RECALL_BROKER_URL", "RECALL_CACHE_URL"):
        user.recall("config", "set", name, server)


@dataclass
class Result:
    """One `claude -p` run: its JSON output and the requests the model received."""

    output: dict[str, Any]
    requests: list[dict[str, Any]]

    @property
    def session_id(self) -> str:
        return str(self.output.get("session_id"))

    @property
    def text(self) -> str:
        return str(self.output.get("result") or "")

    def first_request_text(self) -> str:
        """Everything the model read in the run's first request (hook blocks included)."""
        if not self.requests:
            return ""
        return json.dumps(self.requests[0].get("messages"), ensure_ascii=False)


@dataclass
class ClaudeUser:
    """A new user of Claude Code and Context Recall: a fresh HOME with a git repository."""

    root: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    api: ModelAPI = field(default_factory=ModelAPI)

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.repo = self.home / "project"
        self.repo.mkdir(parents=True)
        subprocess.run(["git", "init", "-q"], cwd=self.repo, check=True)
        self.binary = claude_binary()
        self.api.start()

    @property
    def env(self) -> dict[str, str]:
        keep = ("PATH", "LANG", "LC_ALL", "TMPDIR")
        env = {name: os.environ[name] for name in keep if name in os.environ}
        return {
            **env,
            "HOME": str(self.home),
            "ANTHROPIC_API_KEY": "sk-ant-stand-in",
            "ANTHROPIC_BASE_URL": self.api.url,
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            # Claude Code starts hooks with its own environment: a real user's has no test
            # settings, and the first hook starts the worker
            "RECALL_WORKER_AUTOSTART": "1",
            "RECALL_HOOK_BUDGET_SECONDS": os.environ.get("RECALL_HOOK_BUDGET_SECONDS", "0.9"),
            **self.extra_env,
        }

    def recall(self, *args: str) -> str:
        return recall(self.env, self.repo, *args).stdout

    def claude(self, prompt: str, *args: str, tools: tuple[str, ...] = ()) -> Result:
        """``claude -p PROMPT ARGS`` in the repository; tools in ``tools`` need no approval
        (as root Claude Code refuses --dangerously-skip-permissions)."""
        allowed = ("--allowedTools", *tools) if tools else ()
        env = self.env
        if any(tool.startswith("mcp__") for tool in tools):
            # -p takes its tool list while MCP servers still start (2.1.162 on, upstream
            # issue 74926): a run that calls ours waits for them, or it may be left out
            env = {**env, "MCP_CONNECTION_NONBLOCKING": "false"}
        before = len(self.api.requests)
        done = subprocess.run(
            [self.binary, "-p", prompt, *args, *allowed, "--output-format", "json"],
            env=env, cwd=self.repo, capture_output=True, text=True, timeout=RUN_SECONDS,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return Result(json.loads(done.stdout), self.api.requests[before:])

    def hook_log(self) -> str:
        log = self.home / ".local" / "share" / "contextrecall" / "hook.log"
        return log.read_text() if log.exists() else ""

    def settle(self, timeout: float = 90) -> None:
        """Wait until every save is stored: nothing spooled, waiting or queued (as `recall
        status` counts them, read here in-process)."""
        from contextrecall.client.waiting import count
        from contextrecall.maintenance.status import queue_depth, spool_backlog
        from contextrecall.settings import WAITING, Settings

        settings = Settings.from_env(self.env)

        def settled() -> bool:
            spool = spool_backlog(settings.spool_dir)
            return not (
                spool["count"]
                or spool["sent"]
                or count(settings.location(WAITING))
                or queue_depth(settings)["depth"]
            )

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if settled():
                time.sleep(1)  # a save under way: taken from the queue, not yet confirmed
                if settled():
                    return
            time.sleep(0.3)
        from contextrecall.client.autostart import LOG

        try:  # what the worker said last: why a save never came through
            said = Path(settings.location(LOG)).read_text(errors="replace")[-4000:]
        except OSError as exc:
            said = f"(no worker log: {exc})"
        raise AssertionError(
            f"saves not stored in {timeout} s: {self.recall('status')}\nworker log:\n{said}"
        )

    def stop(self) -> None:
        """The stand-in closes; the worker the hooks started is told to stop (not waited for:
        its warm shutdown takes seconds, and this HOME is thrown away)."""
        from contextrecall.client.autostart import stop_worker
        from contextrecall.settings import Settings

        self.api.stop()
        stop_worker(Settings.from_env(self.env), wait=0)
