"""One save job, start to finish, inside a database transaction (no Celery here)."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy.orm import Session as DBSession

from contextrecall import store
from contextrecall.crypto import KeyRing, associated_data
from contextrecall.delta import JOB_VERSION, decode_delta_text
from contextrecall.memory import SessionMemory


class PoisonJob(ValueError):
    """A job that can never succeed (corrupt or malformed); it is recorded, not retried."""


def validate_job(job: Any) -> dict[str, Any]:
    """The job if it has every field a save needs; PoisonJob otherwise."""
    if not isinstance(job, dict):
        raise PoisonJob(f"job is a {type(job).__name__}, not an object")
    if job.get("v") != JOB_VERSION:
        raise PoisonJob(f"unsupported job version {job.get('v')!r}")
    for path in (
        "job_id",
        "project.identity",
        "session.external_id",
        "delta.sha256",
        "delta.data",
        "delta.start",
        "delta.end",
    ):
        value: Any = job
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value in (None, ""):
            raise PoisonJob(f"job has no {path}")
    fmt = job["session"].get("format") or "claude"
    if fmt not in {"claude", "chat"}:
        raise PoisonJob(f"unknown transcript format {fmt!r}")
    return job


def compress_bytes(text: bytes, fmt: str) -> SessionMemory:
    """The memory a run of transcript lines yields.

    Unlike `recall compress`, a slice with no recognisable line is not an error here: a
    delta may hold nothing but progress or snapshot lines.
    """
    from contextrecall.compression import compress
    from contextrecall.memory import ParseReport
    from contextrecall.transcript import iter_events

    report = ParseReport()
    return compress(iter_events(io.BytesIO(text), fmt, 0, report), fmt, report)


def save_job(db: DBSession, job: dict[str, Any], ring: KeyRing) -> store.StoredJob:
    """Store one job. Raises DuplicateDelta when it was stored before, PoisonJob when it is bad."""
    job = validate_job(job)
    try:
        text = decode_delta_text(job, ring)
    except ValueError as exc:
        raise PoisonJob(str(exc)) from exc
    fmt = job["session"].get("format") or "claude"

    project = store.resolve_project(db, job["project"])
    machine = store.resolve_machine(db, job.get("machine"))
    session = store.resolve_session(db, project, machine, job["session"])
    db.flush()
    store.lock_session(db, session)

    def encrypt(plain: bytes, project_id: str | None, session_id: str) -> tuple[bytes, str]:
        envelope = ring.encrypt(plain, associated_data(project_id, session_id, "delta"))
        return envelope, ring.key_ids[0]

    earlier = store.session_deltas(db, session.id)
    new = store.record_delta(db, session, project, job, encrypt, text, earlier)

    pieces = [
        (
            row.start_offset,
            ring.decrypt(row.payload, associated_data(row.project_id, row.session_id, "delta")),
        )
        for row in earlier
    ]
    pieces.append((new.start_offset, text))
    pieces.sort(key=lambda piece: piece[0])  # stable: equal offsets keep their stored order
    whole = b"".join(piece for _, piece in pieces)
    session_memory = compress_bytes(whole, fmt)
    delta_memory = compress_bytes(text, fmt) if len(whole) != len(text) else session_memory

    context = store.upsert_context(db, project, session, machine, session_memory)
    added = store.add_decisions(db, project, session, delta_memory)
    seen = store.add_snippets(db, project, session, delta_memory, part=new.start_offset)
    store.upsert_project_state(db, project, session, session_memory)
    return store.StoredJob(project.id, project.identity, session.id, context.id, added, seen)
