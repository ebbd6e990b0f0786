"""The save task: a job from a hook or `recall save` becomes stored memory."""

from __future__ import annotations

from typing import Any

from contextrecall.tasks.base import RecallTask
from contextrecall.worker.app import app

_ring = None


def key_ring():  # type: ignore[no-untyped-def]
    """The worker's key ring, loaded once per process."""
    global _ring
    if _ring is None:
        from contextrecall.crypto import load_key_ring
        from contextrecall.settings import get_settings

        _ring = load_key_ring(get_settings())
    return _ring


@app.task(base=RecallTask, bind=True, name="recall.save_delta")
def save_delta(self: RecallTask, job: Any) -> dict[str, Any] | None:
    """Store one delta of one session, exactly once."""
    from contextrecall import cache, saving, store
    from contextrecall.crypto import TamperedError
    from contextrecall.delta import job_argsrepr
    from contextrecall.settings import get_settings

    job_id = str(job.get("job_id") if isinstance(job, dict) else self.request.id)
    summary = job_argsrepr(job) if isinstance(job, dict) else repr(type(job))
    stored = self.run_in_transaction(
        lambda db: saving.save_job(db, job, key_ring()),
        job_id=job_id,
        summary=summary,
        poison=(saving.PoisonJob, TamperedError, KeyError, TypeError),
        done=(store.DuplicateDelta,),
    )
    if stored is None:
        return None
    cache.bump_generation(get_settings(), stored.project_identity)
    return {"project_id": stored.project_id, "session_id": stored.session_id}


@app.task(name="recall.ping", acks_late=True)
def ping() -> str:
    """Does nothing: a health check, and the baseline round trip of the throughput benchmark."""
    return "pong"


@app.task(base=RecallTask, bind=True, name="recall.record_usage")
def record_usage(self: RecallTask, snippet_ids: Any) -> None:
    """Count one use of each recalled snippet (one set-based UPDATE)."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from contextrecall.models import ContextSnippet

    ids = [str(i)[:36] for i in snippet_ids][:500] if isinstance(snippet_ids, list) else []

    def count(db: Any) -> None:
        if ids:
            db.execute(
                update(ContextSnippet)
                .where(ContextSnippet.id.in_(ids))
                .values(
                    usage_count=ContextSnippet.usage_count + 1,
                    last_used_at=datetime.now(UTC).replace(tzinfo=None),
                )
            )

    self.run_in_transaction(
        count,
        job_id=str(self.request.id),
        summary=f"{len(ids)} ids",
        poison=(TypeError, ValueError),
    )
