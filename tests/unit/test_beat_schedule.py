"""The beat schedule: slots aligned to the clock, so every beat process fires the same slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contextrecall.maintenance.runs import manual_slot, slot_for
from contextrecall.settings import Settings
from contextrecall.worker.schedule import AlignedSchedule, beat_schedule


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_slot_is_the_moment_truncated_to_the_period():
    assert slot_for(at("2026-11-25 10:59:59.999"), 3600) == "2026-11-25T10:00:00Z"
    assert slot_for(at("2026-11-25 11:00:00"), 3600) == "2026-11-25T11:00:00Z"
    assert slot_for(at("2026-11-25 11:00:05"), 2) == "2026-11-25T11:00:04Z"
    # Naive datetimes are UTC, as the tables store them.
    assert slot_for(datetime(2026, 11, 25, 10, 30), 86400) == "2026-11-25T00:00:00Z"


def test_manual_runs_get_a_slot_of_their_own():
    moment = datetime(2026, 11, 25, 10, 30)
    assert manual_slot(moment) != manual_slot(moment)
    assert len(manual_slot(moment)) <= 64


def clocked(now: datetime, seconds: float) -> AlignedSchedule:
    return AlignedSchedule(timedelta(seconds=seconds), nowfun=lambda: now)


def test_aligned_schedule_is_due_once_per_period_whenever_beat_started():
    # Two beats started at different moments of the 10:00 hour are both due at 11:00 sharp.
    for started in ("2026-11-25 10:00:01", "2026-11-25 10:41:17"):
        last = at(started)
        assert not clocked(at("2026-11-25 10:59:59"), 3600).is_due(last).is_due
        due = clocked(at("2026-11-25 11:00:00.01"), 3600).is_due(last)
        assert due.is_due
        assert abs(due.next - 3599.99) < 1e-6  # next check: the next boundary
        # Once run (last run at 11:00:00.01) it is not due again until 12:00.
        again = clocked(at("2026-11-25 11:00:00.02"), 3600).is_due(at("2026-11-25 11:00:00.01"))
        assert not again.is_due
        assert abs(again.next - 3599.98) < 1e-6


def test_aligned_schedule_remaining_estimate_points_at_the_next_boundary():
    schedule = clocked(at("2026-11-25 10:59:30"), 3600)
    assert schedule.remaining_estimate(at("2026-11-25 10:12:00")) == timedelta(seconds=30)


def test_beat_schedule_names_tasks_periods_and_slots():
    settings = Settings.from_env({"RECALL_HOME": "/nonexistent", "RECALL_DECAY_INTERVAL": "600"})
    entries = beat_schedule(settings)
    assert {e["task"] for e in entries.values()} == {"recall.decay", "recall.cleanup"}
    decay = entries["recall-decay"]
    assert decay["schedule"].seconds == 600
    assert entries["recall-cleanup"]["schedule"].seconds == 86400
    slot = decay["kwargs"]["slot"]()  # evaluated by beat when it sends the message
    assert slot == slot_for(datetime.now(UTC), 600) or slot == slot_for(
        datetime.now(UTC) - timedelta(seconds=1), 600
    )
    assert decay["options"]["expires"] == 600
