"""The task base class: one database session per task, and a failure policy each task
declares beside itself: what is retried, what is given up and recorded in ``failed_jobs``
(never an endless retry), what means the work was already done."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import Task
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from contextrecall.db import session_scope
from contextrecall.jobs import FAILED_JOBS, LEFT_JOBS
from contextrecall.settings import get_settings
from contextrecall.worker.config import max_retry_delay

log = logging.getLogger(__name__)
MAX_RETRIES = 8

Errors = tuple[type[BaseException], ...]


def is_transient(exc: BaseException) -> bool:
    """A failure worth retrying: the database or a connection went away for a while, or two
    saves of one new session raced to insert the same row (the retry finds the other's)."""
    if isinstance(exc, IntegrityError | OperationalError | ConnectionError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@dataclass(frozen=True)
class Failures:
    """How a task's failures are sorted. Transient ones (``is_transient``) are retried with
    back-off up to ``MAX_RETRIES`` times, then recorded; ``give_up`` ones can never succeed
    and are recorded at once; ``done`` ones mean the work had already been done; ``elsewhere``
    ones only this worker cannot do (a key it lacks): back to the queue with back-off for a
    worker that can, then let go (``RELEASED``), never recorded as failed. Anything else is
    recorded as an unexpected error."""

    give_up: Errors = ()
    done: Errors = ()
    elsewhere: Errors = ()


RELEASED = object()  # the job is left to its sender: neither done nor recorded by this store


def backoff(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: 1, 2, 4, ... capped well under the
    broker's visibility timeout."""
    return int(min(max_retry_delay(get_settings()), 2**retries))


def record_failure(job_id: str, task_name: str, reason: str, summary: str | None) -> bool:
    """Write the failed-jobs row (a repeat of the same job only counts an attempt); True when
    the store holds it. When the store cannot (its database gone), the record goes to a local
    file and the job must not be confirmed: its sender keeps its copy."""
    from contextrecall.dialect import upsert_counting
    from contextrecall.models import FailedJob, new_uuid

    row = {
        "id": new_uuid(),
        "job_id": job_id[:64],
        "task_name": task_name[:200],
        "reason": reason[:4000],
        "summary": summary,
    }
    log.error("job %s failed permanently: %s", job_id, reason)
    try:
        with session_scope() as db:
            upsert_counting(db, FailedJob.__table__, [row], key=("job_id",), counter="attempts")
        return True
    except Exception as exc:  # database down too: keep the record on local disk
        _append_local(FAILED_JOBS, {**row, "at": time.time(), "db_error": str(exc)})
        log.error("job %s not recorded in the store (%s): left to its sender", job_id, exc)
        return False


def record_left(job_id: str, task_name: str, exc: BaseException) -> None:
    """Note on local disk a job let go for another worker (``recall status`` shows the key ids
    that wait); never a failure: the job's sender still holds it."""
    row = {
        "job_id": job_id[:64],
        "task_name": task_name[:200],
        "reason": f"{type(exc).__name__}: {exc}"[:500],
        "key_id": getattr(exc, "key_id", None),
        "store": getattr(exc, "store", None),
        "at": time.time(),
    }
    try:
        _append_local(LEFT_JOBS, row)
    except OSError as error:  # a note for the status, not the job's safety
        log.warning("could not note job %s as left: %s", job_id, error)


def _append_local(name: str, record: dict[str, Any]) -> None:
    """Add ``record`` as a line of the JSON Lines file ``name`` in ``RECALL_HOME``."""
    home = get_settings().home
    home.mkdir(parents=True, exist_ok=True)
    with (home / name).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


class RecallTask(Task):
    """Runs ``body(db)`` in one transaction per attempt and sorts failures by the task's
    ``failures`` policy (``@app.task(..., failures=Failures(...))``)."""

    abstract = True
    max_retries = MAX_RETRIES
    acks_late = True
    reject_on_worker_lost = True
    failures = Failures()

    def run_in_transaction(self, body: Callable[[Any], Any], *, job_id: str, summary: str) -> Any:
        try:
            with session_scope() as db:
                return body(db)
        except self.failures.done:
            return None
        except self.failures.elsewhere as exc:
            if self.request.retries < self.max_retries:
                raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
            # the sender keeps its copy and sends it again: nothing is lost, nothing recorded
            log.warning("job %s left for another worker: %s: %s", job_id, type(exc).__name__, exc)
            record_left(job_id, self.name, exc)
            return RELEASED
        except self.failures.give_up as exc:
            kept = record_failure(job_id, self.name, f"{type(exc).__name__}: {exc}", summary)
            return None if kept else RELEASED
        except Exception as exc:
            if is_transient(exc) and self.request.retries < self.max_retries:
                raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
            reason = "gave up after retries: " if is_transient(exc) else "unexpected error: "
            reason += f"{type(exc).__name__}: {exc}"
            return None if record_failure(job_id, self.name, reason, summary) else RELEASED
