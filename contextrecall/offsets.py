"""Per-session byte offsets: how much of each transcript has already been enqueued.

A lock file per session serializes hooks of one session that run at the same time, so a
slice of transcript is never enqueued twice or skipped. Standard library only.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from contextrecall.ids import sha256_hex


class OffsetBusy(TimeoutError):
    """Another process holds this session's lock for longer than we may wait."""


def _key(session_key: str) -> str:
    return sha256_hex(session_key.encode())[:32]


class OffsetStore:
    """Byte offsets under ``directory``, one small file per session."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _paths(self, session_key: str) -> tuple[Path, Path]:
        key = _key(session_key)
        return self.directory / f"{key}.offset", self.directory / f"{key}.lock"

    @contextmanager
    def locked(self, session_key: str, wait: float = 0.5) -> Iterator[SessionOffset]:
        """Hold the session's lock while reading and advancing its offset."""
        self.directory.mkdir(parents=True, exist_ok=True)
        offset_path, lock_path = self._paths(session_key)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise OffsetBusy(
                            f"session {session_key} is being saved elsewhere"
                        ) from None
                    time.sleep(0.01)
            yield SessionOffset(offset_path)
        finally:
            os.close(fd)  # closing releases the lock


class SessionOffset:
    """The offset of one session, valid while its lock is held."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self) -> int:
        try:
            return int(self.path.read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def set(self, value: int) -> None:
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(str(value))
        os.replace(tmp, self.path)
