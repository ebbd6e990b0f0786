"""A worker whenever there is work: the hook starts one detached worker per ``RECALL_HOME``
when none is alive, so nothing has to be started by hand on the embedded defaults.

Liveness is an ``flock`` on ``$RECALL_HOME/worker.lock``: every running worker holds it (an
autostarted one exclusively, one started by hand shared). The hook's check is one
non-blocking exclusive lock attempt, a few microseconds. When it succeeds no worker is alive,
and the hook hands that locked descriptor itself to the worker it starts (``posix_spawn``, a
session of its own, no terminal, its output in ``worker.log``): from the check on, the lock
is never free, so twenty hooks at once start one worker. The worker exits after
``RECALL_WORKER_IDLE_SECONDS`` without work, and the next hook with work starts another.

Standard library only (``fcntl`` is the one extension module): the hook pays for the check on
every save and session start.
"""

from __future__ import annotations

import fcntl
import os

from contextrecall.settings import Settings

LOCK = "worker.lock"
PID = "worker.pid"
LOG = "worker.log"
LOCK_FD_ENV = "RECALL_WORKER_LOCK_FD"  # tells the started worker which descriptor is its lock


def open_lock(settings: Settings) -> int:
    """The descriptor of this ``RECALL_HOME``'s worker lock file (created if missing)."""
    os.makedirs(settings.location(), mode=0o700, exist_ok=True)
    return os.open(settings.location(LOCK), os.O_RDWR | os.O_CREAT, 0o600)


def worker_alive(settings: Settings) -> bool:
    """True while some worker of this ``RECALL_HOME`` runs (it holds the lock)."""
    fd = open_lock(settings)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock taken here
    return False


def ensure_worker(settings: Settings) -> int | None:
    """Start a detached worker unless one is alive (or autostart is off); its pid, or None."""
    if not settings.worker_autostart:
        return None
    fd = open_lock(settings)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # a worker holds it
        return _spawn(settings, fd)
    finally:
        os.close(fd)  # the worker keeps its own copy of the descriptor, and so the lock


def _spawn(settings: Settings, lock_fd: int) -> int:
    from contextrecall.client.worker_process import worker_command

    os.set_inheritable(lock_fd, True)
    argv = worker_command(
        f"recall-auto-{os.getpid()}@%h",
        idle_exit=settings.worker_idle_seconds,
    )
    env = dict(os.environ)
    env[LOCK_FD_ENV] = str(lock_fd)
    log = settings.location(LOG)
    return os.posix_spawn(
        argv[0],
        argv,
        env,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,  # its own session: the agent's terminal and process group never reach it
    )


def stop_worker(settings: Settings, wait: float = 15.0) -> int | None:
    """Stop the worker a hook started for this ``RECALL_HOME`` (warm shutdown: a task in
    flight finishes); its pid, or None when there was none. Workers started by hand are
    left alone."""
    import contextlib
    import signal
    import time

    pid = recorded_pid(settings)
    if pid is None or not worker_alive(settings) or not _is_worker(pid):
        return None
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            os.kill(pid, 0)  # ProcessLookupError once it is gone
            time.sleep(0.1)
    except ProcessLookupError:
        pass
    with contextlib.suppress(OSError):
        os.unlink(settings.location(PID))
    return pid


def recorded_pid(settings: Settings) -> int | None:
    """The pid a worker started by a hook recorded (None when there is no such record)."""
    try:
        with open(settings.location(PID), encoding="ascii") as handle:
            pid = int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return None
    return pid if pid > 0 else None


def _is_worker(pid: int) -> bool:
    """``pid`` runs `recall worker` (not a process that took over a stale pid's number)."""
    if not os.path.isdir("/proc"):  # macOS: the live lock is the evidence
        return True
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"contextrecall" in handle.read()
    except OSError:
        return False
