"""Which agent wrote a transcript a hook names: Claude Code, Codex or Gemini CLI (they share
the hook contract, not the transcript format). Standard library only, one line read."""

from __future__ import annotations

import json
import re

CODEX_FIRST_LINES = ("session_meta", "turn_context", "response_item", "event_msg", "compacted")
FIRST_LINE_BYTES = 64 * 1024


HOOK_CONTEXT = re.compile(r"<hook_context>.*?</hook_context>\s*", re.S)


def without_hook_context(text: str) -> str:
    """``text`` without the blocks hooks added to it (Gemini CLI puts them in the prompt it
    hands the next hook and writes to its log)."""
    return HOOK_CONTEXT.sub("", text)


def transcript_format(path: str) -> str:
    """ "codex" for a Codex rollout (``{"timestamp", "type", "payload"}`` lines), "gemini"
    for a Gemini CLI chat log (a first line of ``sessionId`` and ``projectHash``), else
    "claude"."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(FIRST_LINE_BYTES)
        line = json.loads(first.decode("utf-8", errors="replace"))
    except (OSError, ValueError):
        return "claude"
    if not isinstance(line, dict):
        return "claude"
    if line.get("type") in CODEX_FIRST_LINES and isinstance(line.get("payload"), dict):
        return "codex"
    if "sessionId" in line and "projectHash" in line:
        return "gemini"
    return "claude"
