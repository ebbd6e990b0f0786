"""The relevance decay formula: a pure function of timestamps, use and importance.

A memory's relevance is never multiplied down run by run; it is recomputed from when the memory
was last reinforced (saved again or recalled), so any number of runs, late or concurrent, give
the score the clock says. No database import: ``maintenance.decay`` writes the same formula as
SQL, and the tests hold the two to agreement.

    age    = days since max(updated_at, last_used_at)
    raw    = importance * (1 + USE_BOOST * ln(1 + uses)) * 2 ** (-age / half_life(kind))
    score  = round(min(1, max(FLOOR, raw)), 2)
"""

from __future__ import annotations

import math
from datetime import datetime

# Days for a memory to lose half its relevance, by kind (a context's ``context_type`` or a
# snippet's ``category``). Decisions and project facts fade slowly, session chatter fast.
HALF_LIFE_DAYS: dict[str, float] = {
    "decision": 365.0,
    "project_state": 365.0,
    "note": 180.0,  # saved by hand (`recall mcp`): deliberate, so kept long
    "snippet": 180.0,
    "configuration": 180.0,
    "gotcha": 120.0,
    "fix": 90.0,
    "command": 60.0,
    "fact": 30.0,
    "session_summary": 14.0,
}
DEFAULT_HALF_LIFE_DAYS = 30.0
FLOOR = 0.05  # never below: an old memory can still win on text relevance
CEILING = 1.0  # the column default: a fresh memory
USE_BOOST = 0.25  # weight of ln(1 + uses): 1 use x1.17, 10 uses x1.6, 100 uses x2.15
# Scores are kept to 0.01: recall weighs relevance by 0.1, so a finer step would reorder
# nothing, and an hourly run rewrites only the rows whose rounded score moved (about 1%).
DIGITS = 2
STEP = 10.0**-DIGITS


def half_life(kind: str | None) -> float:
    """Half-life in days of a memory of ``kind``."""
    return HALF_LIFE_DAYS.get(kind or "", DEFAULT_HALF_LIFE_DAYS)


def decay_rate(kind: str | None) -> float:
    """ln 2 / half-life: the per-day exponent (what the SQL multiplies the age by)."""
    return math.log(2) / half_life(kind)


def raw_relevance(
    age_days: float, kind: str | None, uses: int = 0, importance: float = 1.0
) -> float:
    """The unclamped, unrounded score (for tests against the SQL expression)."""
    boost = 1.0 + USE_BOOST * math.log(1 + max(uses, 0))
    return importance * boost * math.exp(-max(age_days, 0.0) * decay_rate(kind))


def relevance(age_days: float, kind: str | None, uses: int = 0, importance: float = 1.0) -> float:
    """The stored score: ``raw_relevance`` clamped to [FLOOR, CEILING], rounded to STEP."""
    raw = raw_relevance(age_days, kind, uses, importance)
    return round(min(CEILING, max(FLOOR, raw)), DIGITS)


def days_since(now: datetime, *reinforced: datetime | None) -> float:
    """Days from the latest of ``reinforced`` (None entries ignored) to ``now``."""
    latest = max(t for t in reinforced if t is not None)
    return max((now - latest).total_seconds(), 0.0) / 86400.0
