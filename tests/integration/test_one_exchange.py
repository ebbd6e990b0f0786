"""One exchange, one memory, whatever the order of saves: a tool-using turn of the real
Claude Code (``tests/clients/transcripts/tool-turn.jsonl``) saved in two deltas, as a Stop
hook that ran before the turn's answer was written and a later hook save it, on both
backends with their recall index."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from contextrecall.client.deltas import Delta, redact_line, tail_line
from contextrecall.db import session_scope
from contextrecall.memory_signals import REMOVED
from contextrecall.models import ContextSnippet
from contextrecall.recall import answer
from contextrecall.recall.index import reader
from contextrecall.settings import Settings
from tests.integration.memories import save_in_process

TRANSCRIPT = Path(__file__).resolve().parents[1] / "clients" / "transcripts" / "tool-turn.jsonl"
ANSWER = "Finished. The output was: Linux"
ASKED = "Asked: [bash: uname -s]"
PROJECT = {"name": "one-exchange", "identity": "name:one-exchange"}


def halves() -> tuple[Delta, Delta]:
    """The transcript cut just before the tool turn's answer, as two deltas."""
    lines = TRANSCRIPT.read_bytes().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if ANSWER.encode() in line)
    first, second = lines[:cut], lines[cut:]

    def delta(part: list[bytes], start: int) -> Delta:
        text = b"".join(redact_line(line.strip()) + b"\n" for line in part)
        return Delta(start, start + sum(map(len, part)), text)

    return delta(first, 0), delta(second, sum(map(len, first)))


def save(settings: Settings, delta: Delta) -> dict:
    return save_in_process(settings, PROJECT, "s1", delta.text, delta.start, delta.end)


def exchanges(settings: Settings) -> list[str]:
    with session_scope(settings) as db:
        return list(
            db.scalars(
                select(ContextSnippet.dense_content).where(ContextSnippet.category == "exchange")
            )
        )


def of_the_turn(settings: Settings) -> list[str]:
    return [text for text in exchanges(settings) if "uname" in text or ANSWER in text]


def test_a_request_and_its_answer_saved_apart_are_one_memory(kept):
    first, second = halves()
    save(kept, first)
    (partial,) = of_the_turn(kept)
    assert ASKED in partial and ANSWER not in partial
    removed = save(kept, second)
    (whole,) = of_the_turn(kept)
    assert ASKED in whole and ANSWER in whole
    assert removed.get(REMOVED)  # the partial one, taken back

    # the index no longer finds the partial memory: only the whole one answers
    index = reader.fresh_index(kept, PROJECT["identity"])
    assert index is not None
    _, chosen = answer.ranked_block(
        reader.IndexSource(index), "uname", 1000, None, datetime(2030, 1, 1)
    )
    found = [item.text for _, item in chosen if ASKED in item.text]
    assert found and all(ANSWER in text for text in found), found


def test_the_same_when_the_answer_is_stored_first(backend):
    first, second = halves()
    save(backend, second)
    save(backend, first)
    (whole,) = of_the_turn(backend)
    assert ASKED in whole and ANSWER in whole


def test_the_last_answer_a_stop_hook_was_told_of_stands_in_until_the_transcript_has_it(backend):
    first, second = halves()
    first.text += tail_line(ANSWER, "2026-12-06T00:00:00.000Z") + b"\n"
    save(backend, first)
    (told,) = of_the_turn(backend)
    assert ASKED in told and ANSWER in told
    save(backend, second)  # the transcript's own line: the same memory, once
    (whole,) = of_the_turn(backend)
    assert whole.count(ANSWER) == 1 and ASKED in whole
    everything = json.dumps(exchanges(backend))
    assert everything.count(ANSWER) == 1
