"""Prints how many generated cases each fuzz target ran."""

from __future__ import annotations

import pytest

from tests.fuzz.profile import CASES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if CASES:
        terminalreporter.section("fuzz cases per target")
        for target, count in sorted(CASES.items()):
            terminalreporter.write_line(f"{target}: {count}")
