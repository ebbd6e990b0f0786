"""Run records of the beat jobs, and the claim that makes one process the leader of a slot.

Every beat process sends each job once per schedule slot (the scheduled time truncated to the
job's period). The task that receives it inserts (job, slot) into ``maintenance_runs`` ignoring
duplicates; the unique key lets exactly one insert through, and only its owner runs the job.
This needs nothing but the database, so it works on the embedded defaults as on Redis.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contextrecall.db import session_scope
from contextrecall.dialect import insert_ignoring_duplicates
from contextrecall.maintenance.decay import utc_now
from contextrecall.models import MaintenanceRun, new_uuid
from contextrecall.settings import Settings

log = logging.getLogger(__name__)
JOBS = ("decay", "cleanup")
RUNNING, OK, FAILED = "running", "ok", "failed"


def slot_for(moment: datetime, period_seconds: float) -> str:
    """The slot holding ``moment`` (naive UTC or aware): its start, as ISO text.

    Slots are aligned to the epoch, so every process computes the same slot for a moment.
    """
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    start = math.floor(aware.timestamp() / period_seconds) * period_seconds
    return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def manual_slot(moment: datetime) -> str:
    """A slot of its own for a run started by hand (`recall decay`): it always runs."""
    return f"manual {moment.isoformat(timespec='seconds')} {uuid.uuid4().hex[:12]}"


def claim(db: Session, job: str, slot: str, now: datetime) -> str | None:
    """Insert the run of ``job`` for ``slot``; its id if this call won the slot, else None."""
    run_id = new_uuid()
    row = {"id": run_id, "job": job, "slot": slot, "started_at": now, "outcome": RUNNING}
    insert_ignoring_duplicates(db, MaintenanceRun.__table__, [row], key=("job", "slot"))
    owner = db.scalar(
        select(MaintenanceRun.id).where(MaintenanceRun.job == job, MaintenanceRun.slot == slot)
    )
    return run_id if owner == run_id else None


def finish(db: Session, run_id: str, outcome: str, detail: dict[str, Any]) -> None:
    db.execute(
        update(MaintenanceRun)
        .where(MaintenanceRun.id == run_id)
        .values(finished_at=utc_now(), outcome=outcome, detail=json.dumps(detail, default=str))
    )


def run_once(
    settings: Settings, job: str, slot: str | None, body: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``body`` if this process wins ``slot`` (None: a manual run, always won).

    Returns ``{job, slot, ran, ...detail}``; a failing body is recorded, then re-raised.
    """
    now = utc_now()
    slot = slot or manual_slot(now)
    with session_scope(settings) as db:
        run_id = claim(db, job, slot, now)
    if run_id is None:
        log.info("%s: slot %s already claimed; not running", job, slot)
        return {"job": job, "slot": slot, "ran": False}
    try:
        detail = body()
    except Exception as exc:
        with session_scope(settings) as db:
            finish(db, run_id, FAILED, {"error": f"{type(exc).__name__}: {exc}"[:2000]})
        raise
    with session_scope(settings) as db:
        finish(db, run_id, OK, detail)
    log.info("%s: slot %s done: %s", job, slot, detail)
    return {"job": job, "slot": slot, "ran": True, **detail}


def last_runs(db: Session) -> dict[str, dict]:
    """Per job ("decay", "cleanup") that has run: its latest run's
    ``{started_at, finished_at, outcome, detail}`` (datetimes naive UTC, detail a dict)."""
    latest: dict[str, dict] = {}
    for job in JOBS:
        row = db.scalars(
            select(MaintenanceRun)
            .where(MaintenanceRun.job == job)
            .order_by(MaintenanceRun.started_at.desc(), MaintenanceRun.finished_at.desc())
            .limit(1)
        ).first()
        if row is not None:
            latest[job] = {
                "started_at": row.started_at,
                "finished_at": row.finished_at,
                "outcome": row.outcome,
                "detail": json.loads(row.detail) if row.detail else {},
            }
    return latest
