"""A real Celery worker process for tests: started, waited for, killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from contextrecall.client.worker_process import child_environment, worker_command
from contextrecall.settings import Settings

RECALL = str(Path(sys.executable).parent / "recall")  # the console script, as installed


def recall(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`recall ARGS` in ``cwd`` with ``env``, which must succeed."""
    result = subprocess.run(
        [RECALL, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def settings_env(settings: Settings) -> dict[str, str]:
    return child_environment(settings)


def run_cli(
    settings: Settings,
    *args: str,
    timeout: float = 120,
    stdin: str | None = None,
    module: str = "contextrecall.cli",
) -> subprocess.CompletedProcess:
    """`recall ARGS` with ``settings`` (through ``module``: the CLI, or the launcher the
    installed `recall` runs), whatever its exit code."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=settings_env(settings),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_hook(
    settings: Settings, event: dict, timeout: float = 30, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`recall hook` as Claude Code runs it, with ``event`` on its stdin."""
    return subprocess.run(
        [sys.executable, "-m", "contextrecall.launcher", "hook"],
        input=json.dumps(event),
        env=env or settings_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class WorkerProcess:
    """`recall worker` as a child process, logging to a file."""

    def __init__(
        self, settings: Settings, log: Path, concurrency: int = 2, pool: str = "prefork"
    ) -> None:
        self.settings, self.log_path = settings, log
        self.args = worker_command(
            f"test-{os.getpid()}-{time.time_ns()}@%h", pool=pool, concurrency=concurrency
        )
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> WorkerProcess:
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.args,
            env=settings_env(self.settings),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-3000:]}")
            if b" ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.1)
        raise TimeoutError(f"worker not ready: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group (the worker and its pool children)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """A warm shutdown, as an operator's SIGTERM: to the worker alone, which stops its
        pool children itself (terminating them too made it restart them and wait on a message
        in flight); SIGKILL to the group after 15 s."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until(predicate, timeout: float = 60, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout}s")
