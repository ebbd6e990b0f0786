"""Memory written straight into a test's database: a project with a long history."""

from __future__ import annotations

from datetime import datetime, timedelta

from contextrecall.models import DecisionLog, new_uuid

START = datetime(2024, 1, 1)
KAFKA = "Use Kafka for the audit stream instead of RabbitMQ"
KAFKA_WHY = "consumers must replay a month of audit events"


def decisions_since_kafka(project_id: str, later: int) -> list[DecisionLog]:
    """The Kafka decision, then ``later`` decisions about other things, an hour apart."""
    return [
        DecisionLog(
            id=new_uuid(),
            project_id=project_id,
            decision_type="technical",
            decision_text=KAFKA,
            rationale=KAFKA_WHY,
            created_at=START,
        )
    ] + [
        DecisionLog(
            id=new_uuid(),
            project_id=project_id,
            decision_type="technical",
            decision_text=f"Name the report module report_{n} after its ticket",
            created_at=START + timedelta(hours=n + 1),
        )
        for n in range(later)
    ]


def save_in_process(
    settings, project: dict, session: str, text: bytes, start: int = 0, end: int | None = None
) -> dict:
    """Store one delta of ``session`` as a worker does (save, generation, index), in this
    process; the ids it wrote ({table: ids}), or {} when it was stored before."""
    from contextrecall.client.deltas import Delta
    from contextrecall.crypto import load_key_ring
    from contextrecall.db import session_scope
    from contextrecall.generation import bump_generation
    from contextrecall.jobs import build_job
    from contextrecall.recall.index import keeper
    from contextrecall.store.memory_rows import DuplicateDelta
    from contextrecall.store.save_job import save_job

    ring = load_key_ring(settings)
    job = build_job(
        project=project,
        machine=None,
        session_external_id=session,
        source_format="claude",
        delta=Delta(start, start + len(text) if end is None else end, text),
        event="Stop",
        ring=ring,
    )
    try:
        with session_scope(settings) as db:
            stored = save_job(db, job, ring)
    except DuplicateDelta:
        return {}
    generation = bump_generation(settings, project["identity"])
    keeper.after_save(
        identity=project["identity"],
        ids=stored.memory_ids,
        generation=generation,
        settings=settings,
        now=True,
    )
    return stored.memory_ids
