"""Per-session byte offsets: how much of each transcript has already been enqueued.

A lock file per session serializes hooks of one session that run at the same time, so a
slice of transcript is never enqueued twice or skipped. Standard library only, and plain
string paths (the hook cannot afford to import ``pathlib``).
"""

from __future__ import annotations

import fcntl
import os
import time

from contextrecall.ids import sha256_hex

TYPE_CHECKING = False  # importing typing costs the hook ~3 ms; annotations are strings
if TYPE_CHECKING:
    from os import PathLike


class OffsetBusy(TimeoutError):
    """Another process holds this session's lock for longer than we may wait."""


def _key(session_key: str) -> str:
    return sha256_hex(session_key.encode())[:32]


class OffsetStore:
    """Byte offsets under ``directory``, one small file per session."""

    def __init__(self, directory: str | PathLike[str]) -> None:
        self.directory = os.fspath(directory)

    def _paths(self, session_key: str) -> tuple[str, str]:
        base = os.path.join(self.directory, _key(session_key))
        return f"{base}.offset", f"{base}.lock"

    def locked(self, session_key: str, wait: float = 0.5) -> SessionLock:
        """Hold the session's lock (``with store.locked(key) as offset``) while reading and
        advancing its offset."""
        offset_path, lock_path = self._paths(session_key)
        return SessionLock(lock_path, SessionOffset(offset_path), session_key, wait)


class SessionLock:
    """An exclusive ``flock`` on one session's lock file, waited for at most ``wait`` seconds.

    A class rather than ``contextlib.contextmanager``: the hook cannot spare the import.
    """

    def __init__(self, path: str, offset: SessionOffset, session_key: str, wait: float) -> None:
        self.path, self.offset, self.session_key, self.wait = path, offset, session_key, wait
        self.fd: int | None = None

    def __enter__(self) -> SessionOffset:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise OffsetBusy(
                        f"session {self.session_key} is being saved elsewhere"
                    ) from None
                time.sleep(0.01)
        self.fd = fd
        return self.offset

    def __exit__(self, *_: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the lock
            self.fd = None


class SessionOffset:
    """The offset of one session, valid while its lock is held."""

    def __init__(self, path: str) -> None:
        self.path = path

    def get(self) -> int:
        try:
            with open(self.path) as handle:
                return int(handle.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def set(self, value: int) -> None:
        tmp = f"{self.path}.tmp{os.getpid()}"
        with open(tmp, "w") as handle:
            handle.write(str(value))
        os.replace(tmp, self.path)
