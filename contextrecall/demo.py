"""`recall demo`: the whole loop on the embedded defaults, with no server.

It migrates the embedded database, starts a worker (SQLite and the filesystem broker), feeds a
small sample session that ships with the package through the real `recall hook` path exactly as
Claude Code calls it, waits for the save, prints the session-start block and the answer to a
search, and stops the worker it started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from contextrecall import migrate
from contextrecall.client.worker_process import child_environment, worker_command
from contextrecall.db import session_scope
from contextrecall.models import SavedDelta, Session
from contextrecall.recall import service, session_start
from contextrecall.settings import Settings, get_settings

SAMPLE = Path(__file__).parent / "samples" / "demo_session.jsonl"
DEMO_REMOTE = "https://github.com/contextrecall/demo-shop.git"
DEMO_QUERY = "why did the checkout time out and how was it fixed?"
WAIT_SECONDS = 90


def _start_worker(settings: Settings, log: Path) -> subprocess.Popen:
    handle = log.open("ab")
    worker = subprocess.Popen(
        worker_command(f"demo-{os.getpid()}@%h"),
        env=child_environment(settings),
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    return worker


def _wait_until_ready(worker: subprocess.Popen, log: Path) -> None:
    """Until the worker says it is ready: a hook fed while it still starts would share the
    machine with its start-up and could run out of its one-second budget."""
    deadline = time.monotonic() + WAIT_SECONDS
    while b" ready." not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start; see {log}")
        time.sleep(0.1)


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def _stored(settings: Settings, session_id: str) -> bool:
    with session_scope(settings) as db:
        return (
            db.scalar(
                select(SavedDelta.id)
                .join(Session, Session.id == SavedDelta.session_id)
                .where(Session.external_id == session_id)
            )
            is not None
        )


def run(echo: Callable[[str], None] = print) -> None:
    """The demo, start to finish; raises RuntimeError (one line) when a step fails."""
    settings = get_settings()
    echo(f"Context Recall demo, everything under {settings.home}")
    migrate.upgrade(settings)
    project_dir = settings.home / "demo-project"
    (project_dir / ".git").mkdir(parents=True, exist_ok=True)
    (project_dir / ".git" / "config").write_text(f'[remote "origin"]\n\turl = {DEMO_REMOTE}\n')
    session_id = f"demo-{uuid.uuid4().hex[:8]}"
    transcript = project_dir / f"{session_id}.jsonl"
    shutil.copyfile(SAMPLE, transcript)

    log = settings.home / "demo-worker.log"
    echo("1. starting a worker (SQLite + filesystem broker)")
    worker = _start_worker(settings, log)
    try:
        _wait_until_ready(worker, log)
        echo("2. Claude Code ends a session: `recall hook` gets its Stop event")
        event = {
            "session_id": session_id,
            "transcript_path": str(transcript),
            "cwd": str(project_dir),
            "hook_event_name": "Stop",
        }
        subprocess.run(
            [sys.executable, "-m", "contextrecall.launcher", "hook"],
            input=json.dumps(event),
            text=True,
            env=child_environment(settings),
            check=True,
            timeout=30,
        )
        echo("3. waiting for the worker to parse, redact, compress and store it")
        deadline = time.monotonic() + WAIT_SECONDS
        while not _stored(settings, session_id):
            if worker.poll() is not None:
                raise RuntimeError(f"the demo worker exited; see {log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the session was not stored within {WAIT_SECONDS}s; see {log}")
            time.sleep(0.2)
    finally:
        _stop(worker)
    identity = "git:github.com/contextrecall/demo-shop"
    echo("\n4. what the next session starts with (SessionStart):\n")
    echo(session_start.session_start_block(settings, identity))
    echo(f"\n5. recall search {DEMO_QUERY!r}:\n")
    echo(service.search(settings, "contextrecall/demo-shop", DEMO_QUERY, budget=300)["context"])
