"""A reply that picks by number ("3", "yeah 2 and 3") or letter ("B") named with what it picked:
the items of the numbered (or lettered) list, or the numbered table, that the agent's message
before it offered; a bare "yes" or "do it" with the offer the message ended with ("Would you
like me to …?"). Without them the memory holds a bare "3" or "yes", and what was chosen is lost
to search, to decisions and to where the session left off."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace

from contextrecall.compression.next_steps import offer_in
from contextrecall.compression.text import shorten, table_cells
from contextrecall.transcript.events import AssistantMessage, Event, UserPrompt

MAX_REPLY_CHARS = 300  # a longer message says what it wants in words
BARE_REPLY_WORDS = 3  # a reply this short ("yes", "go ahead") accepts the offer before it
_PICK = re.compile(
    r"^\W*(?:(?:yes|yeah|yep|ok|okay|sure|go with|let'?s (?:do|go with)|do|options?|pick|"
    r"choice)\W+)*#?(\d{1,2})((?:\s*(?:,|and|&|\+|or)\s*#?\d{1,2})*)(?![.,]?\d)\b",
    re.I,
)
_OTHER_NUMBER = re.compile(r"\d{1,2}")
# A reply that is only letters of a list ("B", "ok, A and C"): a letter in a sentence is a word.
_PICK_LETTERS = re.compile(
    r"^\W*(?:(?:yes|yeah|yep|ok|okay|sure|go with|let'?s (?:do|go with)|options?|pick|choice)"
    r"\W+)*([A-H])((?:\s*(?:,|and|&|\+|or)\s*[A-H])*)\W*$",
    re.I,
)
_OTHER_LETTER = re.compile(r"\b[A-H]\b", re.I)
# "1. **Remove it** - dead code", "2) Keep it", "- **A. Modern SaaS** (Linear): dark", "b) Keep"
_NUMBERED = re.compile(r"^\s*(?:[-*•]\s+)?(\d{1,2}|[A-Ha-h])[.)]\s+(.+)$")
_FIRST = frozenset({"1", "A"})


def _label(text: str) -> str:
    """A list item's number or letter as both a list and a reply name it ("03" is "3", "b"
    is "B")."""
    return (text.lstrip("0") or "0") if text.isdigit() else text.upper()


def offered(text: str) -> dict[str, str]:
    """The items of the last numbered or lettered list (or numbered table) in ``text``, by
    their number or upper-case letter."""
    items: dict[str, str] = {}
    for line in text.splitlines():
        numbered = _NUMBERED.match(line.replace("**", ""))
        if numbered is not None:
            label, item = _label(numbered.group(1)), numbered.group(2)
        elif (cells := table_cells(line)) and cells[0].isdigit():  # "| 3 | Add it | … |"
            label, item = _label(cells[0]), " - ".join(c for c in cells[1:] if c)
        else:
            continue
        if label in _FIRST:  # a list starting again: the last one is what the reply answers
            items = {}
        items[label] = shorten(item.replace("`", ""), 160)
    return items


def picked(reply: str, offer: str) -> list[str]:
    """The offered items ``reply`` picks by number or letter, as "N. item"; none unless each
    it names is one of the last list's."""
    if len(reply) > MAX_REPLY_CHARS:
        return []
    if match := _PICK.match(reply):
        named = [match.group(1), *_OTHER_NUMBER.findall(match.group(2))]
    elif match := _PICK_LETTERS.match(reply):
        named = [match.group(1), *_OTHER_LETTER.findall(match.group(2))]
    else:
        return []
    labels = [_label(label) for label in named]
    items = offered(offer)
    if not items or any(label not in items for label in labels):
        return []
    return [f"{label}. {items[label]}" for label in dict.fromkeys(labels)]


def with_choices(events: Iterable[Event]) -> Iterator[Event]:
    """``events``, each typed reply that picks by number followed by what it picked, and each
    bare one by the offer it accepted."""
    offer = ""
    for event in events:
        if isinstance(event, AssistantMessage) and not event.sidechain and event.text:
            offer = event.text
        elif isinstance(event, UserPrompt) and event.kind == "typed" and not event.sidechain:
            chosen = picked(event.text, offer)
            bare = len(event.text.split()) <= BARE_REPLY_WORDS and not (
                _PICK.match(event.text) or _PICK_LETTERS.match(event.text)
            )
            if not chosen and offer and bare:  # a number or letter no list offered picks nothing
                chosen = [accepted] if (accepted := offer_in(offer)) else []
            if chosen:
                event = replace(event, text=f"{event.text} → {'; '.join(chosen)}")
            offer = ""
        yield event
