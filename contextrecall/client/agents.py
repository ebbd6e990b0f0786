"""Which agent wrote a transcript a hook names: Claude Code or Codex (they share the hook
contract, not the transcript format). Standard library only, one line read."""

from __future__ import annotations

import json

CODEX_FIRST_LINES = ("session_meta", "turn_context", "response_item", "event_msg", "compacted")
FIRST_LINE_BYTES = 64 * 1024


def transcript_format(path: str) -> str:
    """ "codex" for a Codex rollout (``{"timestamp", "type", "payload"}`` lines), else
    "claude"."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(FIRST_LINE_BYTES)
        line = json.loads(first.decode("utf-8", errors="replace"))
    except (OSError, ValueError):
        return "claude"
    if (
        isinstance(line, dict)
        and line.get("type") in CODEX_FIRST_LINES
        and isinstance(line.get("payload"), dict)
    ):
        return "codex"
    return "claude"
