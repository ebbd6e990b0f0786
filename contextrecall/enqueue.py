"""Outbox delivery: spool a job, publish it, drop it from the spool once the broker has it.

Standard library only until a non-Redis broker needs Celery's own publisher.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from contextrecall.delta import SAVE_TASK, build_job, job_argsrepr, read_deltas
from contextrecall.offsets import OffsetStore
from contextrecall.settings import Settings
from contextrecall.spool import Spool


def deliver(settings: Settings, job: dict[str, Any], timeout: float = 0.5) -> None:
    """Publish one save job to the broker (PublishError when it cannot)."""
    from contextrecall.publish import publish_task

    publish_task(
        settings.broker_url,
        SAVE_TASK,
        [job],
        {},
        task_id=job["job_id"],
        argsrepr=job_argsrepr(job),
        kwargsrepr="{}",
        timeout=timeout,
    )


def spool_new_deltas(
    settings: Settings,
    *,
    transcript: Path,
    project: dict[str, Any],
    machine: dict[str, Any] | None,
    session_external_id: str,
    source_format: str,
    event: str,
    lock_wait: float = 0.5,
) -> list[tuple[Path, dict[str, Any]]]:
    """Spool a job for each new slice of ``transcript`` and advance its offset.

    The session's lock is held from reading the offset until the jobs are on disk and the
    offset moved, so two hooks of one session never enqueue the same lines twice.
    """
    spool = Spool(settings.spool_dir)
    key = f"{project['identity']}\0{session_external_id}\0{transcript}"
    spooled: list[tuple[Path, dict[str, Any]]] = []
    with OffsetStore(settings.offsets_dir).locked(key, wait=lock_wait) as offset:
        end = None
        for delta in read_deltas(transcript, offset.get()):
            end = delta.end
            if not delta.text:
                continue
            job = build_job(
                project=project,
                machine=machine,
                session_external_id=session_external_id,
                source_format=source_format,
                delta=delta,
                event=event,
                transcript_path=str(transcript),
            )
            spooled.append((spool.put(job), job))
        if end is not None:
            offset.set(end)
    return spooled


def publish_spooled(
    settings: Settings,
    spooled: Sequence[tuple[Path, dict[str, Any]]],
    deadline: float | None = None,
) -> tuple[int, int]:
    """Publish spooled jobs in order, removing each once the broker has it; returns
    (published, left in the spool). A crash or a dead broker loses nothing."""
    published = 0
    for path, job in spooled:
        remaining = 0.5 if deadline is None else deadline - time.monotonic()
        if remaining <= 0.05:
            break
        try:
            deliver(settings, job, timeout=min(0.5, remaining))
        except Exception:
            break  # the broker is down or slow: the spool keeps the rest
        path.unlink(missing_ok=True)
        published += 1
    return published, len(spooled) - published


def flush_spool(
    settings: Settings, deadline: float | None = None, limit: int | None = None
) -> tuple[int, int]:
    """Deliver spooled jobs, oldest first; returns (delivered, remaining)."""
    spool = Spool(settings.spool_dir)

    def send(job: dict[str, Any]) -> None:
        remaining = 2.0 if deadline is None else deadline - time.monotonic()
        if remaining <= 0.05:
            raise TimeoutError("no time left")
        deliver(settings, job, timeout=min(2.0, remaining))

    return spool.flush(send, deadline=deadline, limit=limit)
