"""One save job, start to finish, inside a database transaction (no Celery here)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session as DBSession

from contextrecall.crypto import KeyRing, associated_data
from contextrecall.jobs import PoisonJob, decode_delta_text, validate_job
from contextrecall.memory import SessionMemory, Snippet
from contextrecall.memory_signals import REMOVED
from contextrecall.models import ContextSnippet, ConversationContext, DecisionLog
from contextrecall.store import memory_rows, parents, tombstones
from contextrecall.store.overlap import line_digests, lines_not_held, settled

if TYPE_CHECKING:
    from contextrecall.compression import ExchangeLog
    from contextrecall.jobs import SaveJob


def compress_bytes(text: bytes, fmt: str, exchanges: bool | ExchangeLog = True) -> SessionMemory:
    """The memory a run of transcript lines yields (``exchanges`` as ``compress`` takes it).

    Unlike `recall compress`, a slice with no recognisable line is not an error here: a
    delta may hold nothing but progress or snapshot lines.
    """
    from contextrecall.compression import compress
    from contextrecall.memory import ParseReport
    from contextrecall.transcript import iter_events

    report = ParseReport()
    return compress(iter_events(io.BytesIO(text), fmt, 0, report), fmt, report, exchanges)


def session_exchanges(text: bytes, fmt: str) -> list[Snippet]:
    """The exchange snippets of a run of transcript lines, alone."""
    from contextrecall.compression import ExchangeLog, exchange_snippets
    from contextrecall.compression.choices import with_choices
    from contextrecall.transcript import iter_events

    log = ExchangeLog()
    for event in with_choices(iter_events(io.BytesIO(text), fmt)):
        log.add(event)
    return exchange_snippets(log)


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
    forgotten = tombstones.tombstones(db, project.id)
    if tombstones.session_mark(about["external_id"]) in forgotten.sessions:
        # a session the user forgot: its job is done, and nothing of it is stored
        return memory_rows.StoredJob(project.id, project.identity, "", None, 0, 0)
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
    # (and none a user forgot: they were taken out of the stored deltas)
    text = lines_not_held(text, line_digests(piece for _, piece in pieces) | forgotten.lines)
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
    before = settled([piece for _, piece in pieces])
    pieces.append((new.start_offset, text))
    pieces.sort(key=lambda piece: piece[0])  # stable: equal offsets keep their stored order
    whole = settled([piece for _, piece in pieces])
    retracted: list[str] = []
    if len(pieces) == 1:
        session_memory = delta_memory = compress_bytes(whole, fmt)
    elif fmt != "chat":  # an agent's transcript: Claude Code's, Codex's or Gemini CLI's
        # Exchanges are built over the whole session, so that a request and its answer
        # saved by different hooks are one memory: the exchange snippets the session held
        # before this delta are taken back where they changed (a partial exchange, now
        # complete) and only new ones are added. The rest comes from the delta alone.
        from contextrecall.compression import ExchangeLog, exchange_snippets

        log = ExchangeLog()
        session_memory = compress_bytes(whole, fmt, exchanges=log)
        delta_memory = compress_bytes(text, fmt, exchanges=False)
        held = {memory_rows.snippet_hash(s) for s in session_exchanges(before, fmt)}
        now = [(memory_rows.snippet_hash(s), s) for s in exchange_snippets(log)]
        delta_memory.snippets = [s for h, s in now if h not in held] + delta_memory.snippets
        retracted = memory_rows.retract_snippets(db, project, held - {h for h, _ in now})
    else:  # chat: the session is summarised whole; its facts come from the delta alone
        session_memory = compress_bytes(whole, fmt, exchanges=False)
        delta_memory = compress_bytes(text, fmt)

    forgotten.drop_from(session_memory)
    forgotten.drop_from(delta_memory)
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
    if retracted:
        written[REMOVED] = tuple(retracted)
    return memory_rows.StoredJob(
        project.id, project.identity, session.id, context.id, added, seen, written
    )
