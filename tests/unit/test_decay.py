"""The relevance decay formula, as plain Python (the SQL is held to it in test_maintenance)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from contextrecall.maintenance import relevance
from contextrecall.maintenance.relevance import (
    CEILING,
    FLOOR,
    days_since,
    half_life,
    raw_relevance,
)
from contextrecall.maintenance.relevance import relevance as score


def test_half_life_formula_against_hand_computed_values():
    # A session summary halves every 14 days: 1 -> 0.5 -> 0.25; a week is 2 ** -0.5 = 0.7071.
    assert score(0, "session_summary") == 1.0
    assert score(7, "session_summary") == 0.71
    assert score(14, "session_summary") == 0.5
    assert score(28, "session_summary") == 0.25
    # A command halves every 60 days; 30 days is 2 ** -0.5 = 0.7071... -> 0.71.
    assert score(30, "command") == 0.71
    assert raw_relevance(30, "command") == pytest.approx(2**-0.5)
    # 10 uses: 1 + 0.25 * ln(11) = 1.59947...; at one half-life 0.79973... -> 0.8.
    assert score(60, "command", uses=10) == 0.8
    assert raw_relevance(60, "command", uses=10) == pytest.approx(0.5 * (1 + 0.25 * math.log(11)))
    # Importance 0.5, fresh: 0.5. Importance 1.5 at one half-life: 0.75.
    assert score(0, "fact", importance=0.5) == 0.5
    assert score(30, "fact", importance=1.5) == 0.75
    # An unknown kind uses the default half-life (30 days).
    assert score(30, "something new") == 0.5


@pytest.mark.parametrize("kind", [*relevance.HALF_LIFE_DAYS, None, "unknown"])
def test_every_kind_halves_at_its_half_life(kind):
    hl = half_life(kind)
    assert raw_relevance(hl, kind) == pytest.approx(0.5, rel=1e-12)
    assert raw_relevance(2 * hl, kind) == pytest.approx(0.25, rel=1e-12)


def test_decisions_and_project_facts_fade_slower_than_session_chatter():
    assert half_life("decision") > half_life("configuration") > half_life("session_summary")
    assert half_life("project_state") > half_life("command") > half_life("session_summary")
    at_30_days = {kind: score(30, kind) for kind in ("decision", "command", "session_summary")}
    assert at_30_days["decision"] > at_30_days["command"] > at_30_days["session_summary"]


def test_score_never_rises_with_age():
    for kind in ("session_summary", "fact", "decision"):
        scores = [score(day / 4, kind, uses=3, importance=1.3) for day in range(0, 4000)]
        assert all(a >= b for a, b in pairwise(scores)), kind
        assert scores[0] > scores[-1]


def test_floor_and_ceiling():
    assert score(10_000, "session_summary") == FLOOR
    assert score(0, "fact", importance=0.001) == FLOOR
    assert score(0, "fact", importance=1.5) == CEILING
    assert score(0, "fact", uses=1000) == CEILING
    assert score(-5, "fact") == CEILING  # a clock skewed into the future is age 0
    assert raw_relevance(-5, "fact") == 1.0


def test_use_boosts_and_more_use_boosts_more():
    raws = [raw_relevance(40, "command", uses=n) for n in (0, 1, 10, 100)]
    assert raws == sorted(raws) and len(set(raws)) == 4
    assert raws[1] / raws[0] == pytest.approx(1 + 0.25 * math.log(2))
    assert score(40, "command", uses=10) > score(40, "command")


def test_importance_scales_the_score():
    assert raw_relevance(20, "fix", importance=1.2) == pytest.approx(1.2 * raw_relevance(20, "fix"))
    assert score(90, "fix", importance=0.5) < score(90, "fix") < score(90, "fix", importance=1.5)


def test_score_is_a_function_of_timestamps_so_repeating_changes_nothing():
    """No previous score goes in: rescoring as of the same moment gives the same value, and a
    run as of t2 gives what t2 says whatever ran before (no per-run multiplication)."""
    saved = datetime(2026, 1, 1, 12, 0, 0)
    t1, t2 = saved + timedelta(days=5), saved + timedelta(days=19, hours=7)
    first = score(days_since(t1, saved), "session_summary")
    assert score(days_since(t1, saved), "session_summary") == first
    later = score(days_since(t2, saved), "session_summary")
    assert later == round(0.5 ** ((19 + 7 / 24) / 14), 2)


def test_age_runs_from_the_latest_reinforcement():
    now = datetime(2026, 3, 1)
    saved, used = now - timedelta(days=40), now - timedelta(days=2)
    assert days_since(now, saved, used) == pytest.approx(2.0)
    assert days_since(now, saved, None) == pytest.approx(40.0)
    assert days_since(now, now + timedelta(hours=1)) == 0.0
