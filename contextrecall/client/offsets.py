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


FINGERPRINT_BYTES = 64  # of the transcript just before the offset


class SessionOffset:
    """The offset of one session, valid while its lock is held, with a fingerprint of the
    transcript's bytes just before it: a transcript truncated or rewritten under the offset
    no longer matches it."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _read(self) -> list[str]:
        try:
            with open(self.path) as handle:
                return handle.read().split()
        except OSError:
            return []

    def get(self) -> int:
        return _offset(self._read())

    def get_checked(self, transcript: str) -> int:
        """The offset, or 0 when ``transcript`` is no longer what was read up to it (shorter
        than the offset, or other bytes before it): then it is read again from the start."""
        fields = self._read()
        offset = _offset(fields)
        if offset == 0 or len(fields) < 2:
            return offset  # nothing read yet, or an offset written before fingerprints
        return offset if fingerprint(transcript, offset) == fields[1] else 0

    def set(self, value: int, transcript: str | None = None) -> None:
        """Record ``value`` (with the fingerprint of ``transcript`` before it, when given)."""
        mark = fingerprint(transcript, value) if transcript and value else ""
        tmp = f"{self.path}.tmp{os.getpid()}"
        try:
            with open(tmp, "w") as handle:
                handle.write(f"{value} {mark}".strip())
            os.replace(tmp, self.path)
        except OSError:  # a full disk: leave no half-written file behind
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def _offset(fields: list[str]) -> int:
    try:
        return int((fields or ["0"])[0])
    except ValueError:
        return 0


def fingerprint(transcript: str, offset: int) -> str:
    """The file's inode and a digest of its first bytes and of those just before ``offset``
    ("" when it is shorter): a file replaced, cut or rewritten other than at its end no
    longer matches."""
    try:
        with open(transcript, "rb") as handle:
            head = handle.read(min(offset, FINGERPRINT_BYTES))
            start = max(0, offset - FINGERPRINT_BYTES)
            handle.seek(start)
            tail = handle.read(offset - start)
            inode = os.fstat(handle.fileno()).st_ino
    except OSError:
        return ""
    if len(tail) != offset - start:
        return ""
    return f"{inode}:{sha256_hex(head + tail)[:16]}"
