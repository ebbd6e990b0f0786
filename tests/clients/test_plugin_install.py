"""The plugin route alone (issue 29): on a machine with Python 3.11+ and nothing else of ours
(no `recall` on PATH), `claude plugin marketplace add` then `claude plugin install` give
working memory. The plugin builds its own environment under ${CLAUDE_PLUGIN_DATA} in the
background; the first session's hooks exit at once and its saves are kept and stored once the
environment is ready; the next session starts with them; the MCP server connects; each hook
runs once; `recall status` is clean.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.clients.claude import ClaudeUser

ROOT = Path(__file__).resolve().parents[2]
BUILD_SECONDS = 600  # pip installs the package and its dependencies from the index


def marketplace_copy(target: Path) -> Path:
    """This checkout's tracked files as they are now: what a clone of the repository holds."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def path_without_recall() -> str:
    """PATH without any folder holding a `recall` command: nothing of ours is installed."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(f for f in folders if f and not (Path(f) / "recall").exists())


def test_the_plugin_alone_brings_memory_to_a_bare_machine(tmp_path):
    user = ClaudeUser(
        tmp_path,
        extra_env={
            "PATH": path_without_recall(),
            # the machine's pip cache (the private HOME has none): the same wheels, sooner
            "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR")
            or str(Path(os.environ.get("HOME", "/root")) / ".cache" / "pip"),
        },
    )
    try:
        market = marketplace_copy(tmp_path / "market")
        cli = [user.binary, "plugin"]
        plugin = "context-recall@context-recall"
        for args in (["marketplace", "add", str(market)], ["install", plugin]):
            done = subprocess.run(
                [*cli, *args], env=user.env, cwd=user.repo, capture_output=True, text=True,
                timeout=120,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
        assert shutil.which("recall", path=user.env["PATH"]) is None

        started = time.monotonic()
        first = user.claude("Remember this: the staging database listens on port 6543.")
        assert first.text and time.monotonic() - started < 60  # no hook waited for the build
        data = user.home / ".claude" / "plugins" / "data"
        deadline = time.monotonic() + BUILD_SECONDS
        while time.monotonic() < deadline:
            built = list(data.glob("*/env/.built-for"))
            if built and not list(built[0].parent.parent.glob("pending/*.json")):
                break
            time.sleep(2)
        else:
            logs = "".join(p.read_text() for p in data.glob("*/build.log"))
            raise AssertionError(f"the plugin's environment was not ready: {logs[-3000:]}")
        plugin_recall = built[0].parent / "bin" / "recall"
        user.settle(timeout=120)  # the kept saves, replayed once it was ready, are stored

        second = user.claude("Which port does the staging database listen on?")
        seen = second.first_request_text()
        assert "6543" in seen  # the session start brought the first session's fact
        assert seen.count("# Context Recall: memory of") == 1  # each hook ran once

        listed = subprocess.run(
            [user.binary, "mcp", "list"], env=user.env, cwd=user.repo, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        line = next(x for x in listed.stdout.splitlines() if "context-recall" in x)
        assert "Connected" in line, listed.stdout

        user.claude("/compact", "--resume", second.session_id)  # a compaction, too
        user.settle(timeout=120)
        status = subprocess.run(
            [str(plugin_recall), "status"], env=user.env, cwd=user.repo, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        assert status.returncode == 0, status.stderr
        assert "plugin enabled" in status.stdout and "not installed" not in status.stdout
        assert "hook log" not in status.stdout and "TWICE" not in status.stdout, status.stdout

        # A new version of the plugin: its environment is built again, the memory stays.
        bump_version(market, "0.1.1")
        for args in (["marketplace", "update", "context-recall"], ["update", plugin]):
            done = subprocess.run(
                [*cli, *args], env=user.env, cwd=user.repo, capture_output=True, text=True,
                timeout=120,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
        before = built[0].read_text()
        third = user.claude("Which port does the staging database listen on, again?")
        assert third.text
        deadline = time.monotonic() + BUILD_SECONDS
        while time.monotonic() < deadline and built[0].exists() and built[0].read_text() == before:
            time.sleep(2)
        while time.monotonic() < deadline and not built[0].exists():
            time.sleep(2)
        assert built[0].exists() and built[0].read_text() != before, "not built again"
        user.settle(timeout=120)
        fourth = user.claude("And the staging database port?")
        assert "6543" in fourth.first_request_text()
    finally:
        user.stop()


def bump_version(market: Path, version: str) -> None:
    """What a release does: the plugin's manifest and the marketplace name the new version."""
    import json

    for name in ("plugin.json", "marketplace.json"):
        path = market / ".claude-plugin" / name
        document = json.loads(path.read_text())
        entries = document["plugins"] if name == "marketplace.json" else [document]
        for entry in entries:
            entry["version"] = version
        path.write_text(json.dumps(document, indent=2) + "\n")
