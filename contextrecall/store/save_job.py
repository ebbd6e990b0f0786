"""One save job, start to finish, inside a database transaction (no Celery here)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session as DBSession

from contextrecall.crypto import KeyRing, associated_data
from contextrecall.jobs import PoisonJob, decode_delta_text, validate_job
from contextrecall.memory import SessionMemory
from contextrecall.models import ContextSnippet, ConversationContext, DecisionLog
from contextrecall.store import memory_rows, parents
from contextrecall.store.overlap import line_digests, lines_not_held

if TYPE_CHECKING:
    from contextrecall.jobs import SaveJob


def compress_bytes(text: bytes, fmt: str, exchanges: bool = True) -> SessionMemory:
    """The memory a run of transcript lines yields.

    Unlike `recall compress`, a slice with no recognisable line is not an error here: a
    delta may hold nothing but progress or snapshot lines.
    """
    from contextrecall.compression import compress
    from contextrecall.memory import ParseReport
    from contextrecall.transcript import iter_events

    report = ParseReport()
    return compress(iter_events(io.BytesIO(text), fmt, 0, report), fmt, report, exchanges)


def save_job(db: DBSession, job: Any, ring: KeyRing) -> memory_rows.StoredJob:
    """Store one job. Raises DuplicateDelta when it was stored before, PoisonJob when it is bad."""
    checked: SaveJob = validate_job(job)
    try:
        text = decode_delta_text(checked, ring)
    except ValueError as exc:
        raise PoisonJob(str(exc)) from exc
    ref, delta, about = checked["project"], checked["delta"], checked["session"]
    fmt = about["format"]
    machine_ref = checked.get("machine") or {}

    project = parents.resolve_project(
        db,
        ref["identity"],
        name=ref.get("name"),
        git_remote=ref.get("git_remote"),
        root_path=ref.get("root_path"),
    )
    machine = parents.resolve_machine(
        db,
        machine_ref.get("fingerprint"),
        machine_ref.get("hostname"),
        machine_ref.get("platform"),
    )
    session = parents.resolve_session(db, project, machine, about["external_id"], fmt)

    bound = associated_data(project.id, session.id, "delta")
    earlier = memory_rows.session_deltas(db, session.id)
    memory_rows.check_new(earlier, delta["sha256"])
    pieces = [
        (
            row.start_offset,
            ring.decrypt(row.payload, associated_data(row.project_id, row.session_id, "delta")),
        )
        for row in earlier
    ]
    # only the lines the session lacks: overlapping, repeated or re-read slices add nothing
    text = lines_not_held(text, line_digests(piece for _, piece in pieces))
    new = memory_rows.record_delta(
        db,
        session,
        project,
        job_id=checked["job_id"],
        delta_hash=delta["sha256"],
        start=delta["start"],
        end=delta["end"],
        sealed=(ring.encrypt(text, bound), ring.key_ids[0]),
        earlier=earlier,
    )
    if not text:  # every line held already: the row is the job's receipt, nothing changes
        return memory_rows.StoredJob(project.id, project.identity, session.id, None, 0, 0)
    pieces.append((new.start_offset, text))
    pieces.sort(key=lambda piece: piece[0])  # stable: equal offsets keep their stored order
    whole = b"".join(piece for _, piece in pieces)
    if len(whole) == len(text):
        session_memory = delta_memory = compress_bytes(text, fmt)
    else:  # the session is summarised whole; its snippets come from the delta alone
        session_memory = compress_bytes(whole, fmt, exchanges=False)
        delta_memory = compress_bytes(text, fmt)

    context = memory_rows.upsert_context(db, project, session, machine, session_memory)
    decided: list[str] = []
    snipped: list[str] = []
    added = memory_rows.add_decisions(db, project, session, delta_memory, decided)
    seen = memory_rows.add_snippets(
        db, project, session, delta_memory, part=new.start_offset, hashes=snipped
    )
    memory_rows.upsert_project_state(db, project, session, session_memory)
    written = {
        ConversationContext.__tablename__: (context.id,),
        DecisionLog.__tablename__: memory_rows.ids_by_hash(db, DecisionLog, project.id, decided),
        ContextSnippet.__tablename__: memory_rows.ids_by_hash(
            db, ContextSnippet, project.id, snipped
        ),
    }
    return memory_rows.StoredJob(
        project.id, project.identity, session.id, context.id, added, seen, written
    )
