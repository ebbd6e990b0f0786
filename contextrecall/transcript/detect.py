"""Tell a Claude Code transcript, a Codex rollout, a Gemini CLI chat log and a chat JSONL
file apart by sniffing their first lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contextrecall.agents import line_agent
from contextrecall.transcript.claude import CLAUDE_LINE_TYPES
from contextrecall.transcript.gemini import RECORD_TYPES
from contextrecall.transcript.reader import open_transcript

FORMATS = ("auto", "claude", "codex", "gemini", "chat")
# What a file of each format is called in an error; "auto" names them all.
KINDS = {
    "auto": "a Claude Code, Codex, Gemini CLI or chat transcript",
    "claude": "a Claude Code transcript",
    "codex": "a Codex rollout",
    "gemini": "a Gemini CLI chat log",
    "chat": "a chat transcript",
}
SNIFF_LINES = 50
SNIFF_LINE_BYTES = 1024 * 1024
_CLAUDE_KEYS = ("message", "sessionId", "uuid", "summary", "snapshot", "operation")


def object_format(obj: dict[str, Any]) -> str | None:
    """ "claude", "codex", "gemini" or "chat" when one decoded line says which format it is,
    else None."""
    line_type = obj.get("type")
    if not isinstance(line_type, str | None):
        return None
    if agent := line_agent(obj):
        return agent
    # a Gemini CLI record further down its log
    if line_type in RECORD_TYPES and "id" in obj and "content" in obj and "message" not in obj:
        return "gemini"
    if (
        isinstance(line_type, str)
        and line_type in CLAUDE_LINE_TYPES
        and any(key in obj for key in _CLAUDE_KEYS)
    ):
        return "claude"
    if isinstance(obj.get("content"), str) and "message" not in obj and line_type is None:
        return "chat"
    if isinstance(line_type, str) and isinstance(obj.get("sessionId"), str):
        return "claude"  # Claude Code's bookkeeping ("mode", "ai-title", "attachment" …)
    return None


def looks_binary(path: str | Path) -> bool:
    """True when the start of the file holds NUL bytes, which JSON text never does."""
    with open_transcript(path) as stream:
        return b"\x00" in stream.read(8192)


def detect_format(path: str | Path) -> str | None:
    """The format of the transcript at ``path`` ("claude", "codex", "gemini" or "chat"), or
    None if unknown."""
    with open_transcript(path) as stream:
        for _ in range(SNIFF_LINES):
            line = stream.readline(SNIFF_LINE_BYTES)
            if not line:
                break
            if not line.endswith(b"\n") and len(line) >= SNIFF_LINE_BYTES:
                while line and not line.endswith(b"\n"):  # skip the rest of a huge line
                    line = stream.readline(SNIFF_LINE_BYTES)
                continue
            try:
                obj = json.loads(line.decode("utf-8", "replace"))
            except (ValueError, RecursionError):
                continue
            if isinstance(obj, dict):
                found = object_format(obj)
                if found:
                    return found
    return None


def checked_format(path: str | Path, fmt: str = "auto") -> str:
    """The format to read ``path`` in: ``fmt``, or the detected one for "auto". ValueError
    (one line) for a file with content none of whose first lines is a transcript line, or
    whose lines are of another format than ``fmt``; an empty file passes (nothing to read)."""
    found = detect_format(path)
    if found is None and Path(path).stat().st_size:
        raise ValueError(f"{path} is not {KINDS[fmt]} (none of its first lines is one)")
    if fmt == "auto":
        return found or "claude"
    if found is not None and found != fmt:
        raise ValueError(f"{path} is {KINDS[found]}, not {KINDS[fmt]} (--format {fmt})")
    return fmt
