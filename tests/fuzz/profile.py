"""The fuzz suite's settings profile and case counter (imported by every target and conftest).

Every target runs at least ``MIN_CASES`` (10,000) generated cases, derandomized and with no
example database, so a CI run is reproducible and needs no state. ``RECALL_FUZZ_EXAMPLES``
raises the count and ``RECALL_FUZZ_RANDOM=1`` draws fresh cases, for a longer local hunt.
"""

from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, settings

MIN_CASES = 10_000
FUZZ_EXAMPLES = max(MIN_CASES, int(os.environ.get("RECALL_FUZZ_EXAMPLES") or MIN_CASES))

FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("RECALL_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

# Cases each target ran in this process, printed at the end of the run by conftest.py.
CASES: Counter[str] = Counter()


def assert_enough_cases(target: str) -> None:
    """Fail a target that ran fewer cases than the suite promises."""
    assert CASES[target] >= MIN_CASES, f"{target} ran only {CASES[target]} cases"
