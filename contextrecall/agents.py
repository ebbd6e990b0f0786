"""Which agent wrote a transcript a hook names: Claude Code, Codex or Gemini CLI (they share
the hook contract, not the transcript format). Standard library only, one line read."""

from __future__ import annotations

import json
import re

# the ``type`` of each line of a Codex rollout (its ``payload`` a JSON object)
CODEX_LINE_TYPES = frozenset(
    {"session_meta", "response_item", "compacted", "turn_context", "event_msg"}
)
FIRST_LINE_BYTES = 64 * 1024


HOOK_CONTEXT = re.compile(r"<hook_context>.*?</hook_context>\s*", re.S)


def without_hook_context(text: str) -> str:
    """``text`` without the blocks hooks added to it (Gemini CLI puts them in the prompt it
    hands the next hook and writes to its log)."""
    return HOOK_CONTEXT.sub("", text)


def line_agent(line: dict) -> str | None:
    """ "codex" for a line of a Codex rollout (``{"timestamp", "type", "payload"}``),
    "gemini" for the first line of a Gemini CLI chat log (``sessionId`` and
    ``projectHash``), else None."""
    kind = line.get("type")
    if isinstance(kind, str) and kind in CODEX_LINE_TYPES and isinstance(line.get("payload"), dict):
        return "codex"
    if "sessionId" in line and "projectHash" in line:
        return "gemini"
    return None


def transcript_format(path: str) -> str:
    """The agent that wrote the transcript at ``path`` by its first line (``line_agent``):
    "codex", "gemini", else "claude"."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(FIRST_LINE_BYTES)
        line = json.loads(first.decode("utf-8", errors="replace"))
    except (OSError, ValueError):
        return "claude"
    return (line_agent(line) if isinstance(line, dict) else None) or "claude"
