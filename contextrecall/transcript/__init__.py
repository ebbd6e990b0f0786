"""Transcript parsing: Claude Code (1.x, 2.x, subagents), Codex rollouts, Gemini CLI chat logs
and chat JSONL into plain events.

Pure code: it reads the file it is given and nothing else. ``iter_events`` streams; the
``ParseReport`` passed in is filled as the stream is consumed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from contextrecall.memory import ParseReport
from contextrecall.transcript.chat import parse_chat
from contextrecall.transcript.claude import parse_claude
from contextrecall.transcript.codex import parse_codex
from contextrecall.transcript.detect import FORMATS, detect_format
from contextrecall.transcript.events import (
    AssistantMessage,
    ChatTurn,
    CompactionSummary,
    Event,
    SessionInfo,
    ToolCall,
    ToolResult,
    UserPrompt,
)
from contextrecall.transcript.gemini import parse_gemini
from contextrecall.transcript.reader import TranscriptError, iter_objects

__all__ = [
    "FORMATS",
    "AssistantMessage",
    "ChatTurn",
    "CompactionSummary",
    "Event",
    "ParsedSession",
    "SessionInfo",
    "ToolCall",
    "ToolResult",
    "TranscriptError",
    "UserPrompt",
    "detect_format",
    "is_compaction_agent",
    "iter_events",
    "parse_file",
    "resolve_format",
    "subagent_paths",
]


@dataclass
class ParsedSession:
    """All events of one transcript (or of the part after an offset)."""

    path: str
    format: str
    events: list[Event] = field(default_factory=list)
    report: ParseReport = field(default_factory=ParseReport)


def resolve_format(path: str | Path, fmt: str = "auto") -> str:
    """``fmt`` itself, or for "auto" the detected format (Claude Code when undecided)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown transcript format {fmt!r}; expected one of {FORMATS}")
    if fmt != "auto":
        return fmt
    return detect_format(path) or "claude"


def is_compaction_agent(path: str | Path) -> bool:
    """True for the transcript of a compaction subagent (``agent-acompact-*.jsonl``)."""
    return Path(path).name.startswith("agent-acompact")


def subagent_paths(path: str | Path) -> list[Path]:
    """The subagent transcripts of a 2.x session: ``<session>/subagents/agent-*.jsonl``."""
    folder = Path(path).with_suffix("") / "subagents"
    return sorted(folder.glob("agent-*.jsonl")) if folder.is_dir() else []


def iter_events(
    path: str | Path | BinaryIO,
    fmt: str = "auto",
    offset: int = 0,
    report: ParseReport | None = None,
) -> Iterator[Event]:
    """Stream the events of ``path`` (or of an open binary stream, whose ``fmt`` must then be
    given) from byte ``offset``, filling ``report`` as it goes."""
    report = report if report is not None else ParseReport()
    stream = hasattr(path, "read")
    if stream and fmt == "auto":
        raise ValueError("give the format of a transcript read from a stream")
    chosen = resolve_format(path, fmt)
    objects = iter_objects(path, report, offset)
    if chosen == "chat":
        yield from parse_chat(objects, report)
    elif chosen == "codex":
        yield from parse_codex(objects, report)
    elif chosen == "gemini":
        yield from parse_gemini(objects, report)
    else:
        compaction = not stream and is_compaction_agent(path)
        yield from parse_claude(objects, report, compaction_agent=compaction)


def parse_file(path: str | Path, fmt: str = "auto", offset: int = 0) -> ParsedSession:
    """Every event of ``path`` from ``offset``, with the report of what was skipped."""
    report = ParseReport()
    chosen = resolve_format(path, fmt)
    events = list(iter_events(path, chosen, offset, report))
    return ParsedSession(str(path), chosen, events, report)
