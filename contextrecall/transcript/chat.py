"""Chat JSONL (one turn a line, only ``content`` required) into ``ChatTurn`` events.

A line may also carry ``kind`` and ``tags``: a memory saved by hand (see
``contextrecall.client.notes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from contextrecall.memory import ParseReport
from contextrecall.transcript.events import TEXT_CAP, ChatTurn, cap_text

CHAT_ROLES = frozenset({"user", "assistant", "system"})
MAX_TAGS, MAX_TAG_CHARS = 20, 100


def _tags(value: Any) -> list[str]:
    """The distinct non-empty string tags of a line, lowercased and bounded."""
    if not isinstance(value, list):
        return []
    tags = (t.strip().lower()[:MAX_TAG_CHARS] for t in value if isinstance(t, str))
    return list(dict.fromkeys(t for t in tags if t))[:MAX_TAGS]


def _optional_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def parse_chat(objects: Iterable[dict[str, Any]], report: ParseReport) -> Iterator[ChatTurn]:
    """Stream one ``ChatTurn`` per line that has a text ``content``."""
    for obj in objects:
        content = obj.get("content")
        if not isinstance(content, str) or not content.strip():
            report.skip("no-content")
            continue
        report.text_chars += len(content)
        role = _optional_text(obj.get("role"))
        yield ChatTurn(
            content=cap_text(content.strip(), TEXT_CAP),
            role=role.lower() if role else None,
            speaker=_optional_text(obj.get("speaker")),
            timestamp=_optional_text(obj.get("timestamp")),
            turn_id=_optional_text(obj.get("id")),
            kind=kind.lower() if (kind := _optional_text(obj.get("kind"))) else None,
            tags=_tags(obj.get("tags")),
        )
