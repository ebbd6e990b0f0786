"""Memories saved by hand (`recall mcp` save_memory) into a ``SessionMemory``.

Each such line is one memory, kept as it was written (redacted): a decision goes to the
decision log, anything else becomes a snippet of its kind's category, each with the tags it was
saved with. The session around them (one per `recall mcp` server run) gets a summary that
counts them but repeats none, so a search finds each memory once; and it says nothing about
the project's phase or blockers, so storing it leaves the project state alone.
"""

from __future__ import annotations

from collections import Counter

from contextrecall.compression.decisions import impact_of, type_of
from contextrecall.compression.text import shorten
from contextrecall.memory import (
    MANUAL_FORMAT,
    MANUAL_KINDS,
    Decision,
    ParseReport,
    SessionMemory,
    Snippet,
)
from contextrecall.redaction import redact
from contextrecall.transcript.events import ChatTurn

TITLE = "Memories saved by hand"
TITLE_CHARS = 90
# Saved on purpose: importance 2 keeps a memory at full relevance for one half-life longer
# than extracted ones (see maintenance.relevance).
MANUAL_IMPORTANCE = 2.0


def kind_of(turn: ChatTurn) -> str:
    """The turn's kind, "note" when it has none or one we do not know."""
    return turn.kind if turn.kind in MANUAL_KINDS else "note"


def manual_decision(turn: ChatTurn) -> Decision:
    text = redact(turn.content.strip())
    return Decision(
        text=text, impact=impact_of(text), decision_type=type_of(text), tags=list(turn.tags)
    )


def manual_snippet(turn: ChatTurn) -> Snippet:
    """A snippet whose content keeps its line breaks (code stays code)."""
    content = redact(turn.content.strip())
    first_line = next((line for line in content.splitlines() if line.strip()), content)
    return Snippet(
        category=kind_of(turn),
        title=shorten(first_line, TITLE_CHARS),
        content=content,
        tags=list(turn.tags),
        occurred_at=turn.timestamp,
        importance=MANUAL_IMPORTANCE,
        ref=turn.turn_id,
    )


def build_manual_memory(turns: list[ChatTurn], report: ParseReport) -> SessionMemory:
    """The memory of a file of memories saved by hand."""
    decisions = [manual_decision(t) for t in turns if kind_of(t) == "decision"]
    snippets = [manual_snippet(t) for t in turns if kind_of(t) != "decision"]
    counts = Counter(kind_of(t) for t in turns)
    listed = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in sorted(counts.items()))
    times = [t.timestamp for t in turns if t.timestamp]
    return SessionMemory(
        title=TITLE,
        summary=f"{TITLE} through recall mcp: {listed}." if turns else f"{TITLE}.",
        source_format=MANUAL_FORMAT,
        decisions=decisions,
        snippets=snippets,
        started_at=times[0] if times else None,
        ended_at=times[-1] if times else None,
        tags=["manual"],
        report=report,
    )
