"""The save task: a job from a hook or `recall save` becomes stored memory; and the usage
count recall asks for."""

from __future__ import annotations

from typing import Any

from contextrecall.broker.confirmations import confirm
from contextrecall.crypto import KeyRing, TamperedError, UnknownKeyError
from contextrecall.jobs import SAVE_TASK, USAGE_TASK, PoisonJob, job_argsrepr
from contextrecall.store.memory_rows import DuplicateDelta
from contextrecall.tasks.base import RELEASED, Failures, RecallTask
from contextrecall.worker.app import app

MAX_USAGE_IDS = 500
_ring: KeyRing | None = None


def key_ring() -> KeyRing:
    """The worker's key ring, loaded once per process."""
    global _ring
    if _ring is None:
        from contextrecall.crypto import load_key_ring
        from contextrecall.settings import get_settings

        _ring = load_key_ring(get_settings())
    return _ring


@app.task(
    base=RecallTask,
    bind=True,
    name=SAVE_TASK,
    # KeyError/TypeError: a job shaped in a way validation did not foresee is still poison.
    # A key this worker lacks is not: a worker holding it (or this one, once given it) can.
    failures=Failures(
        give_up=(PoisonJob, TamperedError, KeyError, TypeError),
        done=(DuplicateDelta,),
        elsewhere=(UnknownKeyError,),
    ),
)
def save_delta(self: RecallTask, job: Any) -> dict[str, Any] | None:
    """Store one delta of one session, exactly once."""
    from contextrecall.generation import bump_generation
    from contextrecall.memory_signals import memory_saved
    from contextrecall.settings import get_settings
    from contextrecall.store.save_job import save_job

    job_id = str(job.get("job_id") if isinstance(job, dict) else self.request.id)
    settings = get_settings()
    stored = self.run_in_transaction(
        lambda db: save_job(db, job, key_ring()), job_id=job_id, summary=job_argsrepr(job)
    )
    if stored is RELEASED:  # not confirmed: the hook's sent copy stays and is sent again
        return None
    # stored, stored before, or recorded as failed: the hook's sent copy may go
    confirm(settings, job_id)
    if stored is None:
        return None
    generation = bump_generation(settings, stored.project_identity)
    memory_saved.send(
        sender=SAVE_TASK,
        identity=stored.project_identity,
        ids=stored.memory_ids,
        generation=generation,
    )
    return {"project_id": stored.project_id, "session_id": stored.session_id}


@app.task(name="recall.ping", acks_late=True)
def ping() -> str:
    """Does nothing: a health check, and the baseline round trip of the throughput benchmark."""
    return "pong"


@app.task(
    base=RecallTask,
    bind=True,
    name=USAGE_TASK,
    failures=Failures(give_up=(TypeError, ValueError)),
)
def record_usage(self: RecallTask, snippet_ids: Any) -> None:
    """Count one use of each recalled snippet (one set-based UPDATE)."""
    from contextrecall.store.usage import count_uses

    ids = (
        [str(i)[:36] for i in snippet_ids][:MAX_USAGE_IDS] if isinstance(snippet_ids, list) else []
    )
    self.run_in_transaction(
        lambda db: count_uses(db, ids), job_id=str(self.request.id), summary=f"{len(ids)} ids"
    )
