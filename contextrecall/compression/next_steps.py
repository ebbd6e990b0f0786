"""What a session says is still to do: the next steps a report names, and the "Next:" lines
of the markdown planning files the agent read or wrote."""

from __future__ import annotations

import re

from contextrecall.compression.text import BULLET, is_table_rule, shorten, squash, table_cells
from contextrecall.tagging import unnumbered

# Words that head what is still to do: "Next steps", "Remaining work", "You'll need to:"
_PENDING = (
    r"next steps?|what.?s next|next (?:suggestions?|ideas)(?=\W*$)|"
    r"remaining(?: work| tasks| steps| items|(?=\W*$))|to[- ]?dos?(?=\W*$)|"
    r"follow[- ]?ups?|still needed|open items|outstanding|action required|manual steps|"
    r"you(?:'ll| will)? need to(?=\W*$)"
)
_NEXT_HEADING = re.compile(
    rf"^\s*(?:#+\s*|\*\*)?(?:{_PENDING})\b[^.]*$|^[^.\n]{{0,60}}\b(?:{_PENDING})\b[^.\n]*:\W*$"
    # what is needed before something can happen: "Before the next deploy, you need to set:"
    r"|^\W*before\b[^.\n]{0,60}\byou(?:'ll| will)? (?:need|have) to\b[^.\n]*:\W*$",
    re.I,
)
_HEADING_MARKS = re.compile(r"^\s*#+\s*|\*\*|:\W*$")
_EMPTY_CELL = re.compile(r"^[\W_]*$")  # "—", "-", "": nothing said


# "Next: …" in a markdown planning or state file the agent read or wrote (STATE.md's
# "Next: Phase 12.1 — run /gsd:plan-phase 12.1"): where the project's own notes say work goes.
_PLANNED_NEXT = re.compile(
    r"^\s*(?:[-*]\s+)?(?:\*\*)?next(?: steps?| actions?| up)?(?:\*\*)?\s*:"
    r"\s*(?:\*\*)?\s*(\S.{3,})$",
    re.I | re.M,
)


def _table_items(lines: list[str]) -> list[str]:
    """A markdown table's rows, cells joined, without its header row and its rule."""
    rows = [cells for line in lines if (cells := table_cells(line)) is not None]
    if any(is_table_rule(line) for line in lines):  # a rule marks the first row as the header
        rows = rows[1:]
    items = [": ".join(c for c in cells if not _EMPTY_CELL.match(c)) for cells in rows]
    return [item for item in items if item]


def steps_in(text: str) -> list[str]:
    """What a report says is still to do: the bullets or table rows under a "Next steps" /
    "Remaining" / "you need to …:" heading, led by the heading when it says more than that."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if len(line) >= 80 or not _NEXT_HEADING.match(line):
            continue
        bullets: list[str] = []
        table: list[str] = []
        for following in lines[start + 1 :]:
            if not following.strip():
                continue
            bullet = BULLET.match(following)
            if bullet is not None:
                bullets.append(squash(bullet.group(1).replace("**", "")))
            elif table_cells(following) is not None or is_table_rule(following):
                table.append(following)
            else:
                break
        items = bullets + _table_items(table)
        if items:
            heading = squash(_HEADING_MARKS.sub("", line))
            said_more = not re.fullmatch(rf"(?:{_PENDING})\W*", heading, re.I)
            return ([heading] if said_more else []) + items[:5]
    return []


def planned_in(text: str) -> list[str]:
    """The "Next: …" lines of a markdown file's text (a Read result's line numbers allowed)."""
    found = _PLANNED_NEXT.findall(unnumbered(text))
    return [squash(line).replace("**", "") for line in found][:3]


# How an agent ends a turn by offering what it would do next: "Would you like me to …?",
# "If you want, I can …", "Shall I …?".
_OFFER = re.compile(
    r"^\W*(?:would you like(?: me)? to|do you want me to|want me to|shall I|should I|"
    r"if you(?:'d)? (?:want|like)\b[^.?]*\bI can|I can also)\b",
    re.I,
)
_QUESTION = re.compile(r"\w[\w`*)\]]*\?(?:\s|$)")  # "Merge edeyim mi? …", "…commit it?"
OFFER_CHARS = 300


def offer_in(text: str) -> str | None:
    """The offer a text ends with (its last paragraph: ``_OFFER``, or a question put to the
    person, in whatever language), or None."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    last = squash(paragraphs[-1]) if paragraphs else ""
    asks = _OFFER.match(last) or _QUESTION.search(last)
    return shorten(last, OFFER_CHARS) if asks else None
