"""The save task: a job from a hook or `recall save` becomes stored memory; and the usage
count recall asks for."""

from __future__ import annotations

import logging
import time
from typing import Any

from contextrecall.broker.confirmations import confirm
from contextrecall.crypto import KeyRing, TamperedError, UnknownKeyError
from contextrecall.jobs import SAVE_TASK, USAGE_TASK, PoisonJob, job_argsrepr
from contextrecall.store.memory_rows import DuplicateDelta
from contextrecall.store.store_id import OtherStore
from contextrecall.tasks.base import RELEASED, Failures, RecallTask
from contextrecall.worker.app import app

log = logging.getLogger(__name__)
MAX_USAGE_IDS = 500
RING_RELOAD_SECONDS = 5.0
_ring: KeyRing | None = None
_ring_loaded = 0.0


def key_ring() -> KeyRing:
    """The worker's key ring, loaded once per process (and again by ``reload_key_ring``)."""
    global _ring, _ring_loaded
    if _ring is None:
        from contextrecall.crypto import load_key_ring
        from contextrecall.settings import get_settings

        _ring, _ring_loaded = load_key_ring(get_settings()), time.monotonic()
    return _ring


def reload_key_ring() -> bool:
    """Read the key ring again from the configuration as it is now (its file, the key file),
    at most every ``RING_RELOAD_SECONDS``; True when it holds other keys than before. How a
    worker takes up a key rotated while it runs, without a restart."""
    global _ring, _ring_loaded
    from contextrecall.crypto import load_key_ring
    from contextrecall.settings import Settings, get_settings

    if time.monotonic() - _ring_loaded < RING_RELOAD_SECONDS:
        return False
    _ring_loaded = time.monotonic()
    before = key_ring().key_ids
    started = get_settings()
    try:
        now = Settings.from_env()
        if now.home != started.home or now.database_url != started.database_url:
            return False  # another configuration: this worker stops (ConfigurationWatch)
        _ring = load_key_ring(now)
    except (OSError, ValueError) as exc:  # a half-written file: keep the ring it has
        log.warning("key ring not reloaded: %s", exc)
        return False
    return _ring.key_ids != before


def _store(db: Any, job: Any, own: list[str]) -> Any:
    """Store ``job`` if it is for this store (its id goes to ``own``); a key this worker
    lacks is looked for once more in the configuration before the job is left."""
    from contextrecall.store.save_job import save_job
    from contextrecall.store.store_id import check_store

    own.append(check_store(db, job))
    try:
        return save_job(db, job, key_ring())
    except UnknownKeyError:
        if not reload_key_ring():
            raise
    return save_job(db, job, key_ring())


@app.task(
    base=RecallTask,
    bind=True,
    name=SAVE_TASK,
    # KeyError/TypeError: a job shaped in a way validation did not foresee is still poison.
    # A key this worker lacks is not: a worker holding it (or this one, once given it) can;
    # nor a job for another store, which a worker of that store can.
    failures=Failures(
        give_up=(PoisonJob, TamperedError, KeyError, TypeError),
        done=(DuplicateDelta,),
        elsewhere=(UnknownKeyError, OtherStore),
    ),
)
def save_delta(self: RecallTask, job: Any) -> dict[str, Any] | None:
    """Store one delta of one session, exactly once."""
    from contextrecall.generation import bump_generation
    from contextrecall.memory_signals import memory_saved
    from contextrecall.settings import get_settings

    job_id = str(job.get("job_id") if isinstance(job, dict) else self.request.id)
    settings = get_settings()
    own: list[str] = []
    stored = self.run_in_transaction(
        lambda db: _store(db, job, own), job_id=job_id, summary=job_argsrepr(job)
    )
    if stored is RELEASED:  # not confirmed: the hook's sent copy stays and is sent again
        return None
    if own:  # stored, stored before, or recorded as failed here: the sender's copy may go
        confirm(settings, own[-1], job_id)
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
