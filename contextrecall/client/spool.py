"""The outbox: jobs are written here first (atomically), published, then kept as sent until
the store confirms it holds them.

If the broker is down or slow a job simply stays; the next hook, a worker at start-up or
`recall spool flush` delivers it. A flush claims a job by renaming it into ``sending/``
before publishing it, so two flushes never send the same file (a claim its flush died with
goes back to the queue), then moves it to ``sent/``. A broker that loses a job it took (a
worker killed between its pop and its acknowledgement) loses nothing: the sent copy is
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


SENT, SENDING = "sent", "sending"
TEMPORARY_SECONDS = 3600.0  # a temporary file this old was left by a crashed writer
ABANDONED_SECONDS = 15.0  # a claim this old was left by a flush killed while sending


class Spool:
    """Job files under ``directory``: ``<time>-<job id>.json``, oldest first; those being
    sent under ``directory/sending``, those sent and not yet confirmed under
    ``directory/sent``."""

    def __init__(self, directory: str | PathLike[str]) -> None:
        self.directory = os.fspath(directory)
        self.sending_directory = os.path.join(self.directory, SENDING)
        self.sent_directory = os.path.join(self.directory, SENT)

    def put(self, job: dict[str, Any]) -> str:
        """Write ``job`` durably and atomically; a reader never sees a half-written file."""
        os.makedirs(self.directory, exist_ok=True)
        name = f"{time.time_ns():020d}-{job['job_id']}.json"
        final = os.path.join(self.directory, name)
        tmp = os.path.join(self.directory, f".{name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(job, handle, separators=(",", ":"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, final)
        except BaseException:  # a full disk, a kill: no half-written temporary stays behind
            _quietly(os.unlink, tmp)
            raise
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
        """Move ``path`` into ``sending/`` (the rename is the claim, its time the claim's);
        None when another flush took it first."""
        os.makedirs(self.sending_directory, exist_ok=True)
        target = os.path.join(self.sending_directory, os.path.basename(path))
        try:
            os.replace(path, target)
        except FileNotFoundError:
            return None
        _touch(target)
        return target

    def _sent(self, claimed: str) -> None:
        """A claimed job is published: it waits in ``sent/`` for the store's word, from now."""
        os.makedirs(self.sent_directory, exist_ok=True)
        target = os.path.join(self.sent_directory, os.path.basename(claimed))
        _quietly(os.replace, claimed, target)
        _touch(target)

    def reclaim(self, now: float | None = None) -> int:
        """Put back in the queue the claims a flush killed while sending left behind."""
        cutoff = (time.time() if now is None else now) - ABANDONED_SECONDS
        reclaimed = 0
        for path in _jobs_in(self.sending_directory):
            try:
                if os.stat(path).st_mtime < cutoff:
                    os.replace(path, os.path.join(self.directory, os.path.basename(path)))
                    reclaimed += 1
            except FileNotFoundError:
                continue  # sent or put back meanwhile
        return reclaimed

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
        if paths is None:
            self.reclaim()
        for path in self.pending() if paths is None else paths:
            if limit is not None and delivered >= limit:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            claimed = self._claim(path)
            if claimed is None:
                continue  # another flush took it
            job = self.load(claimed)
            if job is None:
                continue
            try:
                deliver(job)
            except BaseException as exc:  # a hook's watchdog too: the job must not be lost
                os.replace(claimed, path)  # back to the queue of the next flush
                if not isinstance(exc, Exception):
                    raise
                break
            self._sent(claimed)
            delivered += 1
        return delivered, self.count()

    def settle(
        self,
        held: Callable[[dict[str, str]], Collection[str]],
        deliver: Callable[[dict[str, Any]], None],
        *,
        resend_after: float,
        deadline: float | None = None,
        limit: int | None = None,
        now: float | None = None,
    ) -> tuple[int, int]:
        """Drop the sent jobs the store is done with (``held`` gets ``{job id: path}`` and
        answers the ids stored or failed visibly), and send again those unconfirmed for
        ``resend_after`` seconds (at most ``limit``). Returns (confirmed, sent again)."""
        now = time.time() if now is None else now
        sent = {_job_id(path): path for path in self.sent()}
        if not sent:
            return 0, 0
        done = set(held(sent))
        confirmed = resent = 0
        broker_down = False
        for job_id, path in sent.items():
            if job_id in done:
                self.remove(path)
                confirmed += 1
                continue
            if (
                broker_down
                or (limit is not None and resent >= limit)
                or (deadline is not None and time.monotonic() >= deadline)
            ):
                continue  # confirmations still count; sending waits for the next settle
            try:
                if now - os.stat(path).st_mtime < resend_after:
                    continue
            except FileNotFoundError:
                continue  # confirmed by another process meanwhile
            job = self.load(path)
            if job is None:
                continue
            try:
                deliver(job)
            except Exception:
                broker_down = True
                continue
            _touch(path)
            resent += 1
        return confirmed, resent

    def load(self, path: str) -> dict[str, Any] | None:
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


def _job_id(path: str) -> str:
    """The job id in a spool file's name (``<time>-<job id>.json``)."""
    return os.path.basename(path).removesuffix(".json").partition("-")[2]


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
