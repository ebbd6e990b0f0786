"""`recall save`: spool and publish jobs for whole transcript files (what is new in each)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from contextrecall.client.autostart import ensure_worker
from contextrecall.client.outbox import publish_spooled, spool_new_deltas
from contextrecall.identity import named_project, project_for_directory, this_machine
from contextrecall.settings import Settings

if TYPE_CHECKING:
    from contextrecall.jobs import SaveJob

PUBLISH_SECONDS = 30  # a file's jobs must reach the broker within this, or stay spooled


def enqueue_files(
    settings: Settings,
    paths: list[Path],
    *,
    project: str | None,
    session: str | None,
    fmt: str,
    on_file: Callable[[Path], None] | None = None,
    on_dropped: Callable[[Path, int], None] | None = None,
) -> list[SaveJob]:
    """Spool and publish a job per new slice of each file; returns the jobs.

    ``on_file`` hears of each file once its jobs are published; ``on_dropped`` of lines
    skipped for being longer than ``MAX_LINE_BYTES``. ConnectionError when the broker does
    not take them (they stay in the spool for ``recall spool flush``). A worker is started
    when there is work and none is alive (``client.autostart``).
    """
    from contextrecall.transcript.detect import checked_format

    for path in paths:
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
    formats = [checked_format(path, fmt) for path in paths]  # every file, before any is sent
    ref = named_project(project) if project else project_for_directory(Path.cwd())
    machine = this_machine().to_dict()
    jobs: list[SaveJob] = []
    for path, source_format in zip(paths, formats, strict=True):
        spooled = spool_new_deltas(
            settings,
            transcript=path,
            project=ref.to_dict(),
            machine=machine,
            session_external_id=session or path.stem,
            source_format=source_format,
            event="save",
            lock_wait=10.0,
            on_dropped=None if on_dropped is None else lambda n, path=path: on_dropped(path, n),
        )
        _, left = publish_spooled(settings, spooled, deadline=time.monotonic() + PUBLISH_SECONDS)
        if left:
            raise ConnectionError(
                f"broker unavailable: {left} job(s) kept in the spool (recall spool flush)"
            )
        jobs.extend(job for _, job in spooled)
        if on_file is not None:
            on_file(path)
    if jobs:
        ensure_worker(settings)
    return jobs
