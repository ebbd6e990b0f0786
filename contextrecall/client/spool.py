"""The outbox: jobs are written here first (atomically), published, then removed.

If the broker is down or slow a job simply stays; the next hook, a worker at start-up or
`recall spool flush` delivers it. Standard library only, and plain string paths: the hook
cannot afford to import ``pathlib``.
"""

from __future__ import annotations

import json
import os
import time

TYPE_CHECKING = False  # importing typing costs the hook ~3 ms; annotations are strings
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from os import PathLike
    from typing import Any


class Spool:
    """Job files under ``directory``: ``<time>-<job id>.json``, oldest first."""

    def __init__(self, directory: str | PathLike[str]) -> None:
        self.directory = os.fspath(directory)

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
        """Spooled job files, oldest first."""
        try:
            names = sorted(n for n in os.listdir(self.directory) if n.endswith(".json"))
        except FileNotFoundError:
            return
        for name in names:
            yield os.path.join(self.directory, name)

    def count(self) -> int:
        return sum(1 for _ in self.pending())

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
            try:
                with open(path, encoding="utf-8") as handle:
                    job = json.load(handle)
            except FileNotFoundError:
                continue  # another flusher took it
            except (ValueError, OSError):
                os.replace(path, path.removesuffix(".json") + ".bad")
                continue
            try:
                deliver(job)
            except Exception:
                break
            if os.path.exists(path):
                os.unlink(path)
            delivered += 1
        return delivered, self.count()
