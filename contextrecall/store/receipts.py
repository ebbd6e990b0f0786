"""Which jobs the store holds: what `recall save --wait` waits for."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from contextrecall.db import session_scope
from contextrecall.models import FailedJob, SavedDelta
from contextrecall.settings import Settings

if TYPE_CHECKING:
    from contextrecall.jobs import SaveJob

POLL_SECONDS = 0.1


def held(settings: Settings, jobs: Sequence[SaveJob]) -> set[str]:
    """The ids of ``jobs`` the store is done with: stored (their delta is in the database,
    whoever stored it) or failed visibly (a failed-jobs record)."""
    if not jobs:
        return set()
    digests = {job["job_id"]: job["delta"]["sha256"] for job in jobs}
    stored, failed = _outcomes(settings, digests)
    return {job_id for job_id, digest in digests.items() if digest in stored or job_id in failed}


def _outcomes(settings: Settings, digests: dict[str, str]) -> tuple[set[str], dict[str, str]]:
    """(the delta hashes stored, {job id: failure reason}) of ``digests`` ({job id: sha256})."""
    with session_scope(settings) as db:
        stored = set(
            db.scalars(
                select(SavedDelta.delta_hash).where(
                    SavedDelta.delta_hash.in_(list(set(digests.values())))
                )
            )
        )
        failed = dict(
            db.execute(
                select(FailedJob.job_id, FailedJob.reason).where(
                    FailedJob.job_id.in_(list(digests))
                )
            ).all()
        )
    return stored, {str(job_id): str(reason) for job_id, reason in failed.items()}


def wait_for(settings: Settings, jobs: Sequence[SaveJob], timeout: float) -> dict[str, str]:
    """Block until every job is stored or failed; returns {job id: reason} of failures.

    A job counts as stored when its delta is in the database, whoever stored it (a
    duplicate of an earlier save is stored too). TimeoutError when ``timeout`` passes first.
    """
    pending = {job["job_id"]: job["delta"]["sha256"] for job in jobs}
    failures: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while pending:
        stored, failed = _outcomes(settings, pending)
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
        time.sleep(POLL_SECONDS)
    return failures
