"""Which jobs the store holds: what `recall save --wait` waits for."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from contextrecall.db import session_scope
from contextrecall.models import FailedJob, ForgottenMemory, Project, SavedDelta
from contextrecall.settings import Settings
from contextrecall.store.tombstones import SESSION, session_mark

if TYPE_CHECKING:
    from contextrecall.jobs import SaveJob

POLL_SECONDS = 0.1


def held(settings: Settings, jobs: Sequence[SaveJob]) -> set[str]:
    """The ids of ``jobs`` the store is done with: stored (their delta is in the database,
    whoever stored it), for a session the user forgot (never to be stored), or failed
    visibly (a failed-jobs record)."""
    if not jobs:
        return set()
    done, failed = _outcomes(settings, jobs)
    return done | set(failed)


def _outcomes(settings: Settings, jobs: Sequence[SaveJob]) -> tuple[set[str], dict[str, str]]:
    """(the ids of ``jobs`` stored or forgotten, {job id: failure reason})."""
    digests = {job["job_id"]: job["delta"]["sha256"] for job in jobs}
    sessions = {
        job["job_id"]: (job["project"]["identity"], session_mark(job["session"]["external_id"]))
        for job in jobs
    }
    with session_scope(settings) as db:
        stored = set(
            db.scalars(
                select(SavedDelta.delta_hash).where(
                    SavedDelta.delta_hash.in_(list(set(digests.values())))
                )
            )
        )
        forgotten = set(
            db.execute(
                select(Project.identity, ForgottenMemory.content_hash)
                .join(Project, Project.id == ForgottenMemory.project_id)
                .where(
                    ForgottenMemory.kind == SESSION,
                    ForgottenMemory.content_hash.in_(sorted({m for _, m in sessions.values()})),
                )
            ).all()
        )
        failed = dict(
            db.execute(
                select(FailedJob.job_id, FailedJob.reason).where(
                    FailedJob.job_id.in_(list(digests))
                )
            ).all()
        )
    done = {
        job_id
        for job_id, digest in digests.items()
        if digest in stored or sessions[job_id] in forgotten
    }
    return done, {str(job_id): str(reason) for job_id, reason in failed.items()}


def wait_for(settings: Settings, jobs: Sequence[SaveJob], timeout: float) -> dict[str, str]:
    """Block until every job is stored (or its session forgotten) or failed; returns
    {job id: reason} of failures.

    A job counts as stored when its delta is in the database, whoever stored it (a
    duplicate of an earlier save is stored too). TimeoutError when ``timeout`` passes first.
    """
    pending = {job["job_id"]: job for job in jobs}
    failures: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while pending:
        done, failed = _outcomes(settings, list(pending.values()))
        for job_id in list(pending):
            if job_id in failed:
                failures[job_id] = failed[job_id]
                del pending[job_id]
            elif job_id in done:
                del pending[job_id]
        if not pending:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} job(s) not stored within {timeout:.0f}s")
        time.sleep(POLL_SECONDS)
    return failures
