"""`recall save`: enqueue transcripts from files and, on request, wait for them to be stored."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from contextrecall.client.deltas import MAX_LINE_BYTES
from contextrecall.client.outbox import publish_spooled, spool_new_deltas
from contextrecall.db import session_scope
from contextrecall.identity import named_project, project_for_directory, this_machine
from contextrecall.models import FailedJob, SavedDelta
from contextrecall.settings import Settings


def _format_of(path: Path, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    from contextrecall.transcript import resolve_format

    return resolve_format(path, "auto")


def enqueue_files(
    settings: Settings,
    paths: list[Path],
    *,
    project: str | None,
    session: str | None,
    fmt: str,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Spool and publish a job per new slice of each file; returns the jobs."""
    for path in paths:
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
    ref = named_project(project) if project else project_for_directory(Path.cwd())
    machine = this_machine().to_dict()
    jobs: list[dict[str, Any]] = []
    bar = None
    if progress and len(paths) > 1:
        import click

        # On stderr, beside the other messages of `recall save`: stdout stays for data.
        bar = click.progressbar(
            length=len(paths), label="saving", file=click.get_text_stream("stderr")
        )
        bar.__enter__()
    try:
        for path in paths:
            spooled = spool_new_deltas(
                settings,
                transcript=path,
                project=ref.to_dict(),
                machine=machine,
                session_external_id=session or path.stem,
                source_format=_format_of(path, fmt),
                event="save",
                lock_wait=10.0,
                on_dropped=lambda count, path=path: _warn(
                    f"skipped {count} line(s) over {MAX_LINE_BYTES} bytes in {path}"
                ),
            )
            _, left = publish_spooled(settings, spooled, deadline=time.monotonic() + 30)
            if left:
                raise ConnectionError(
                    f"broker unavailable: {left} job(s) kept in the spool (recall spool flush)"
                )
            jobs.extend(job for _, job in spooled)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    return jobs


def _warn(message: str) -> None:
    import click

    click.echo(f"recall: warning: {message}", err=True)


def wait_for(settings: Settings, jobs: list[dict[str, Any]], timeout: float) -> dict[str, str]:
    """Block until every job is stored or failed; returns {job id: reason} of failures.

    A job counts as stored when its delta is in the database, whoever stored it (a
    duplicate of an earlier save is stored too).
    """
    pending = {job["job_id"]: job["delta"]["sha256"] for job in jobs}
    failures: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while pending:
        with session_scope(settings) as db:
            stored = set(
                db.scalars(
                    select(SavedDelta.delta_hash).where(
                        SavedDelta.delta_hash.in_(list(pending.values()))
                    )
                )
            )
            failed = dict(
                db.execute(
                    select(FailedJob.job_id, FailedJob.reason).where(
                        FailedJob.job_id.in_(list(pending))
                    )
                ).all()
            )
        for job_id, digest in list(pending.items()):
            if job_id in failed:
                failures[job_id] = failed[job_id]
                del pending[job_id]
            elif digest in stored:
                del pending[job_id]
        if not pending:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} job(s) not stored within {timeout:.0f}s")
        time.sleep(0.1)
    return failures
