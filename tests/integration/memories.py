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
