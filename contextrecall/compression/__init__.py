"""Compression: parsed transcript events into a dense, redacted ``SessionMemory``.

``compress`` folds events (streamed or a ``ParsedSession``) into a memory; ``compress_file``
does parse + compress for a path from a byte offset and raises ``TranscriptError`` for a path
that is not a transcript. ``render_summary_block`` is the text the read path injects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from contextrecall.compression.chat import build_chat_memory
from contextrecall.compression.choices import with_choices
from contextrecall.compression.digest import SessionDigest
from contextrecall.compression.exchanges import ExchangeLog
from contextrecall.compression.summary import block_budget, build_memory, render_summary_block
from contextrecall.memory import ParseReport, SessionMemory, Snippet
from contextrecall.redaction import redact
from contextrecall.transcript import (
    Event,
    ParsedSession,
    TranscriptError,
    iter_events,
    resolve_format,
    subagent_paths,
)
from contextrecall.transcript.detect import KINDS, looks_binary

__all__ = [
    "ExchangeLog",
    "TranscriptError",
    "block_budget",
    "compress",
    "compress_file",
    "exchange_snippets",
    "redact_memory",
    "render_summary_block",
]

# Reasons a consumed line did not count as transcript content.
_UNRECOGNISED = (
    "invalid-json",
    "not-an-object",
    "unknown-type",
    "no-content",
    "line-too-long",
    "codex-unknown-line",
    "gemini-unknown-line",
)


def compress(
    events: Iterable[Event] | ParsedSession,
    fmt: str | None = None,
    report: ParseReport | None = None,
    exchanges: bool | ExchangeLog = True,
) -> SessionMemory:
    """The memory of a session from its events (consumed once, in order). Its per-exchange
    snippets are extracted unless ``exchanges`` is False; given an ``ExchangeLog``, the
    events are folded into it too and its snippets left for the caller (a save compares the
    session's exchanges before and after its delta)."""
    if isinstance(events, ParsedSession):
        fmt = fmt or events.format
        report = report or events.report
        events = events.events
    report = report if report is not None else ParseReport()
    digest = SessionDigest()
    log = exchanges if isinstance(exchanges, ExchangeLog) else ExchangeLog() if exchanges else None
    for event in with_choices(events):
        digest.add(event)
        if log is not None:
            log.add(event)
    if log is exchanges:
        log = None  # the caller's
    digest.finish()
    if fmt is None:
        fmt = "chat" if digest.turns and not digest.assistant_messages else "claude"
    if fmt == "chat":
        memory = build_chat_memory(digest, report)
    else:
        memory = build_memory(digest, report)
        memory.snippets = (log.snippets() if log is not None else []) + memory.snippets
    return redact_memory(memory)


def exchange_snippets(log: ExchangeLog) -> list[Snippet]:
    """The snippets of the exchanges ``log`` holds, redacted like the rest of a memory."""
    return [redact_memory(snippet) for snippet in log.snippets()]


def compress_file(
    path: str | Path, fmt: str = "auto", offset: int = 0, include_subagents: bool = False
) -> SessionMemory:
    """Parse, redact and compress the transcript at ``path`` from byte ``offset``.

    ``include_subagents`` also folds in ``<session>/subagents/agent-*.jsonl`` (whole files,
    only when reading from offset 0). Raises ``TranscriptError`` (a ``ValueError``) with a
    one-line message when ``path`` is missing, a directory, or holds no transcript line.
    """
    path = Path(path)
    if path.is_dir():
        raise TranscriptError(f"{path} is a directory, not a transcript")
    if not path.exists():
        raise TranscriptError(f"no such transcript: {path}")
    if offset == 0 and looks_binary(path):
        raise TranscriptError(f"{path} is a binary file, not a transcript")
    chosen = resolve_format(path, fmt)
    report = ParseReport()
    events: Iterable[Event] = iter_events(path, chosen, offset, report)
    if include_subagents and offset == 0:
        extra = (iter_events(p, "claude", 0, ParseReport()) for p in subagent_paths(path))
        events = chain(events, *extra)
    memory = compress(events, chosen, report)
    unrecognised = sum(report.skipped.get(reason, 0) for reason in _UNRECOGNISED)
    if offset == 0 and report.lines and unrecognised >= report.lines:
        raise TranscriptError(f"{path} is not {KINDS[fmt]} (no parsable line)")
    return memory


def redact_memory(memory: SessionMemory) -> SessionMemory:
    """Every string in ``memory`` passed through ``redact`` (a last guard; idempotent)."""
    _redact_fields(memory)
    return memory


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        _redact_fields(value)
    return value


def _redact_fields(obj: Any) -> None:
    for f in fields(obj):
        if f.name == "report":
            continue
        setattr(obj, f.name, _redact_value(getattr(obj, f.name)))
