"""Helpers every test module may import: the shared data folder and visible skips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

IN_CI = (os.environ.get("CI") or "").lower() in {"1", "true", "yes"}
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TRANSCRIPTS = SHARED_DATA / "transcripts"


def require(available: bool, what: str) -> None:
    """Skip (or, under CI, fail) when a service or data set is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} not available on this machine")


def shared_transcript(name: str) -> Path:
    """A real transcript from ../shared/data/transcripts (skip or, on CI, fail if absent)."""
    path = TRANSCRIPTS / name
    require(path.exists(), f"shared transcript {path}")
    return path
