"""Read the numbered sections of a Claude Code compaction summary.

Compaction summaries follow a fixed outline ("1. Primary Request and Intent:", "4. Errors and
fixes:", "5. Problem Solving:", "7. Pending Tasks:", "8. Current Work:" …); compression reuses
those sections instead of re-deriving what they already say.
"""

from __future__ import annotations

import re

from contextrecall.compression.text import BULLET

_SECTION = re.compile(r"^\s*(?:\d+\.|#+)\s*\**([A-Z][A-Za-z /&-]{2,60}?)\**:?\s*$", re.M)


def sections(text: str) -> dict[str, str]:
    """The sections of a compaction summary, by lowercased heading."""
    matches = list(_SECTION.finditer(text))
    found = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        found[match.group(1).strip().lower()] = text[match.end() : end].strip()
    return found


def section(text: str, *names: str) -> str | None:
    """The first section whose heading contains one of ``names``."""
    for heading, body in sections(text).items():
        if any(name in heading for name in names):
            return body
    return None


def top_bullets(body: str) -> list[str]:
    """The top-level bullets of a section, markdown emphasis removed."""
    bullets: list[str] = []
    indent: int | None = None
    for line in body.splitlines():
        stripped = line.strip()
        bullet = BULLET.match(stripped)
        if bullet is None:
            continue
        depth = len(line) - len(line.lstrip())
        if indent is None:
            indent = depth
        if depth <= indent:
            bullets.append(bullet.group(1).replace("**", "").strip())
    return [b for b in bullets if b]
