"""Outbox delivery: spool a job, publish it, keep it as sent until the store confirms it.

Standard library only until a non-Redis broker needs Celery's own publisher. Sent jobs are
settled by the database (``settle_spool``: the CLI and the worker) or, in a hook on a Redis
broker, by the workers' confirmations there (``settle_confirmed``).
"""

from __future__ import annotations

import os
import time

from contextrecall.client.deltas import Delta, read_deltas
from contextrecall.client.offsets import OffsetStore
from contextrecall.client.spool import Spool
from contextrecall.jobs import SAVE_TASK, build_job, job_argsrepr
from contextrecall.settings import OFFSETS, SPOOL, Settings

TYPE_CHECKING = False  # importing typing costs the hook ~3 ms; annotations are strings
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from os import PathLike
    from typing import Any


def deliver(settings: Settings, job: dict[str, Any], timeout: float = 0.5) -> None:
    """Publish one save job to the broker, to the queue of the store it is for when known
    here (PublishError when it cannot)."""
    from contextrecall.broker.config import store_queue
    from contextrecall.broker.publish import publish_task
    from contextrecall.client.own_store import known_store, stamp

    store = known_store(settings)
    publish_task(
        settings.broker_url,
        SAVE_TASK,
        [stamp(job, store)],
        {},
        queue=store_queue(store),
        task_id=job["job_id"],
        argsrepr=job_argsrepr(job),
        kwargsrepr="{}",
        timeout=timeout,
        settings=settings,
    )


def spool_new_deltas(
    settings: Settings,
    *,
    transcript: str | PathLike[str],
    project: dict[str, Any],
    machine: dict[str, Any] | None,
    session_external_id: str,
    source_format: str,
    event: str,
    lock_wait: float = 0.5,
    on_dropped: Callable[[int], None] | None = None,
    tail: bytes | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """Spool a job for each new slice of ``transcript`` and advance its offset.

    ``on_dropped`` hears how many lines were skipped for being longer than MAX_LINE_BYTES.
    ``tail`` (a ``deltas.tail_line``: the last answer, not written yet) ends the last slice,
    or is a slice of its own at the offset when nothing else is new.

    The session's lock is held from reading the offset until the jobs are on disk and the
    offset moved, so two hooks of one session never enqueue the same lines twice.
    """
    spool = Spool(settings.location(SPOOL))
    transcript = os.path.normpath(os.fspath(transcript))
    key = f"{project['identity']}\0{session_external_id}\0{transcript}"
    spooled: list[tuple[str, dict[str, Any]]] = []
    ring, dropped = None, 0
    with OffsetStore(settings.location(OFFSETS)).locked(key, wait=lock_wait) as offset:
        end = None
        start = offset.get_checked(transcript)
        # a transcript truncated or rewritten under the offset is read again from the start:
        # the store keeps each line once, so what it holds already is not stored twice
        for delta in _ending_with(read_deltas(transcript, start), tail, start):
            end, dropped = delta.end, dropped + delta.dropped_lines
            if not delta.text:
                continue
            if ring is None:
                from contextrecall.crypto import load_key_ring

                ring = load_key_ring(settings)
            job = build_job(
                project=project,
                machine=machine,
                session_external_id=session_external_id,
                source_format=source_format,
                delta=delta,
                event=event,
                transcript_path=transcript,
                ring=ring,
            )
            spooled.append((spool.put(job), job))
        if end is not None:
            try:
                offset.set(end, transcript)
            except OSError:
                # spool and offset move together: without the offset, the next hook reads
                # these lines again, so the jobs just written are withdrawn
                for path, _ in spooled:
                    spool.remove(path)
                raise
    if dropped and on_dropped is not None:
        on_dropped(dropped)
    return spooled


def _ending_with(deltas: Iterator[Delta], tail: bytes | None, start: int) -> Iterator[Delta]:
    """``deltas``, the last one ending with ``tail`` (one of its own at ``start`` if none)."""
    last = None
    for delta in deltas:
        if last is not None:
            yield last
        last = delta
    if tail:
        last = last or Delta(start, start, b"")
        last.text += tail + b"\n"
    if last is not None:
        yield last


def _sender(settings: Settings, deadline: float | None, cap: float):
    """``deliver`` bounded by what is left of ``deadline`` (at most ``cap`` per job)."""

    def send(job: dict[str, Any]) -> None:
        remaining = cap if deadline is None else deadline - time.monotonic()
        if remaining <= 0.05:
            raise TimeoutError("no time left")
        deliver(settings, job, timeout=min(cap, remaining))

    return send


def publish_spooled(
    settings: Settings,
    spooled: Sequence[tuple[str, dict[str, Any]]],
    deadline: float | None = None,
) -> tuple[int, int]:
    """Publish just-spooled jobs in order, removing each once the broker has it; returns
    (published, left of them in the spool). A crash or a dead broker loses nothing."""
    published, _ = Spool(settings.location(SPOOL)).flush(
        _sender(settings, deadline, cap=0.5), paths=[path for path, _ in spooled]
    )
    return published, len(spooled) - published


def flush_spool(
    settings: Settings, deadline: float | None = None, limit: int | None = None
) -> tuple[int, int]:
    """Deliver spooled jobs, oldest first; returns (delivered, remaining)."""
    spool = Spool(settings.location(SPOOL))
    return spool.flush(_sender(settings, deadline, cap=2.0), deadline=deadline, limit=limit)


def settle_spool(settings: Settings, deadline: float | None = None) -> tuple[int, int]:
    """Drop the sent jobs the store holds, publish again those it still lacks after
    ``spool_resend_seconds``; returns (confirmed, sent again). Needs the database, and
    learns which store it is for the hooks (``own_store.learn_store``)."""
    from contextrecall.client.own_store import learn_store
    from contextrecall.store.receipts import held

    spool = Spool(settings.location(SPOOL))
    learn_store(settings)

    def stored(sent: dict[str, str]) -> set[str]:
        jobs = [job for path in sent.values() if (job := spool.load(path)) is not None]
        return held(settings, jobs)

    return spool.settle(
        stored,
        _sender(settings, deadline, cap=2.0),
        resend_after=settings.spool_resend_seconds,
        deadline=deadline,
    )


def settle_confirmed(settings: Settings, deadline: float, limit: int = 5) -> tuple[int, int]:
    """The hook's settling, on a Redis broker: drop the sent jobs a worker confirmed, publish
    again (a few) still unconfirmed after ``spool_resend_seconds``; (confirmed, sent again).
    Only the word of the store this client writes to counts: until this ``RECALL_HOME``
    learned which store that is, none does (what was sent is still sent again). On other
    brokers the hook cannot tell, and leaves them to the worker's sweep and the CLI."""
    from contextrecall.broker.confirmations import confirmed
    from contextrecall.broker.redis_wire import REDIS_SCHEMES
    from contextrecall.client.own_store import known_store

    if not settings.broker_url.startswith(REDIS_SCHEMES):
        return 0, 0
    store = known_store(settings)
    timeout = max(0.05, min(0.5, deadline - time.monotonic()))
    return Spool(settings.location(SPOOL)).settle(
        lambda sent: confirmed(settings, store, list(sent), timeout) if store else set(),
        _sender(settings, deadline, cap=0.5),
        resend_after=settings.spool_resend_seconds,
        deadline=deadline,
        limit=limit,
    )


def sweep_spool(settings: Settings, deadline: float | None = None) -> dict[str, int]:
    """Deliver the spool, then settle what was sent: ``{delivered, remaining, confirmed,
    resent}``. Needs the database (the worker's and the CLI's sweep)."""
    Spool(settings.location(SPOOL)).sweep_temporaries()
    delivered, remaining = flush_spool(settings, deadline=deadline)
    confirmed, resent = settle_spool(settings, deadline=deadline)
    return {
        "delivered": delivered,
        "remaining": remaining,
        "confirmed": confirmed,
        "resent": resent,
    }
