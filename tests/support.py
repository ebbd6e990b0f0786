"""Helpers every test module may import: the shared data folder and visible skips."""

from __future__ import annotations

import os
import re
from collections import Counter
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


def flush_redis(url: str) -> None:
    """Empty the Redis database of ``url``."""
    import redis

    redis.Redis.from_url(url).flushdb()


def repeated_sentences(block: str) -> list[str]:
    """Sentences of a context block said more than once (compared as ``recall.once`` does)."""
    from contextrecall.recall.once import MIN_WORDS, said_as

    said = Counter(
        said_as(sentence)
        for line in block.splitlines()
        for sentence in re.split(r"(?<=[.!?])\s+", line)
        if len(said_as(sentence).split()) >= MIN_WORDS
    )
    return [sentence for sentence, count in said.items() if count > 1]
