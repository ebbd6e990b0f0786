"""The outbox: jobs are written here first (atomically), published, then kept as sent until
the store confirms it holds them.

If the broker is down or slow a job simply stays; the next hook, a worker at start-up or
`recall spool flush` delivers it. A flush claims a job by renaming it into ``sent/`` before
publishing it, so two flushes never send the same file. A broker that loses a job it took
(a worker killed between its pop and its acknowledgement) loses nothing: the sent copy is
published again once it is older than a few minutes and the store still lacks it. Standard
library only, and plain string paths: the hook cannot afford to import ``pathlib``.
"""

from __future__ import annotations

import json
import os
import time

TYPE_CHECKING = False  # importing typing costs the hook ~3 ms; annotations are strings
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Iterator
    from os import PathLike
    from typing import Any


SENT = "sent"
TEMPORARY_SECONDS = 3600.0  # a temporary file this old was left by a crashed writer


class Spool:
    """Job files under ``directory``: ``<time>-<job id>.json``, oldest first; those published
    and not yet confirmed under ``directory/sent``."""

    def __init__(self, directory: str | PathLike[str]) -> None:
        self.directory = os.fspath(directory)
        self.sent_directory = os.path.join(self.directory, SENT)

    def put(self, job: dict[str, Any]) -> str:
        """Write ``job`` durably and atomically; a reader never sees a half-written file."""
        os.makedirs(self.directory, exist_ok=True)
        name = f"{time.time_ns():020d}-{job['job_id']}.json"
        final = os.path.join(self.directory, name)
        tmp = os.path.join(self.directory, f".{name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(job, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        return final

    def pending(self) -> Iterator[str]:
        """Spooled job files not sent yet, oldest first."""
        yield from _jobs_in(self.directory)

    def sent(self) -> Iterator[str]:
        """Job files sent and not yet confirmed, oldest first."""
        yield from _jobs_in(self.sent_directory)

    def count(self) -> int:
        return sum(1 for _ in self.pending())

    def remove(self, path: str) -> None:
        """Remove a job file; one another process removed already is not an error."""
        _quietly(os.unlink, path)

    def _claim(self, path: str) -> str | None:
        """Move ``path`` into ``sent/`` (the rename is the claim); None when another flush
        took it first."""
        os.makedirs(self.sent_directory, exist_ok=True)
        target = os.path.join(self.sent_directory, os.path.basename(path))
        try:
            os.replace(path, target)
        except FileNotFoundError:
            return None
        return target

    def sweep_temporaries(self, now: float | None = None) -> int:
        """Remove temporary files a crashed writer left (older than an hour)."""
        cutoff = (time.time() if now is None else now) - TEMPORARY_SECONDS
        removed = 0
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return 0
        for entry in entries:
            try:
                if entry.name.endswith(".tmp") and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def flush(
        self,
        deliver: Callable[[dict[str, Any]], None],
        *,
        deadline: float | None = None,
        limit: int | None = None,
        paths: Iterable[str] | None = None,
    ) -> tuple[int, int]:
        """Deliver spooled jobs (``paths``, or all, oldest first) in order until one fails,
        time runs out or ``limit`` is hit.

        Returns (delivered, remaining in the spool). A file that is not valid JSON is moved
        aside to ``<name>.bad`` so it cannot block the queue forever.
        """
        delivered = 0
        for path in self.pending() if paths is None else paths:
            if limit is not None and delivered >= limit:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            claimed = self._claim(path)
            if claimed is None:
                continue  # another flush took it
            job = self._load(claimed)
            if job is None:
                continue
            try:
                deliver(job)
            except Exception:
                os.replace(claimed, path)  # back to the queue of the next flush
                break
            _touch(claimed)  # sent now: the time its confirmation is awaited from
            delivered += 1
        return delivered, self.count()

    def settle(
        self,
        stored: Callable[[list[dict[str, Any]]], Collection[str]],
        deliver: Callable[[dict[str, Any]], None],
        *,
        resend_after: float,
        deadline: float | None = None,
        now: float | None = None,
    ) -> tuple[int, int]:
        """Drop the sent jobs the store confirms (``stored`` answers the ids it holds, or
        failed visibly), and send again those unconfirmed for ``resend_after`` seconds.
        Returns (confirmed, sent again)."""
        now = time.time() if now is None else now
        jobs: dict[str, dict[str, Any]] = {}
        for path in self.sent():
            job = self._load(path)
            if job is not None:
                jobs[path] = job
        if not jobs:
            return 0, 0
        held = set(stored(list(jobs.values())))
        confirmed = resent = 0
        for path, job in jobs.items():
            if job.get("job_id") in held:
                self.remove(path)
                confirmed += 1
                continue
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                if now - os.stat(path).st_mtime < resend_after:
                    continue
            except FileNotFoundError:
                continue  # confirmed by another process meanwhile
            try:
                deliver(job)
            except Exception:
                break
            _touch(path)
            resent += 1
        return confirmed, resent

    def _load(self, path: str) -> dict[str, Any] | None:
        """The job in ``path``; None when it is gone, or unreadable (then moved aside to
        ``<name>.bad`` in the spool so it cannot block the queue forever)."""
        try:
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return None
        except (ValueError, OSError):
            bad = os.path.join(self.directory, os.path.basename(path).removesuffix(".json"))
            _quietly(os.replace, path, bad + ".bad")
            return None


def _jobs_in(directory: str) -> Iterator[str]:
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    except FileNotFoundError:
        return
    for name in names:
        yield os.path.join(directory, name)


def _touch(path: str) -> None:
    _quietly(os.utime, path)  # gone: confirmed and removed already


def _quietly(change: Callable[..., None], *paths: str) -> None:
    """``change(*paths)``, where a file another process removed first is no error."""
    try:
        change(*paths)
    except FileNotFoundError:
        return
