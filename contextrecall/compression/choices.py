"""A reply that picks by number ("3", "yeah 2 and 3") named with what it picked: the items of
the numbered list, or the numbered table, that the agent's message before it offered; a bare
"yes" or "do it" with the offer the message ended with ("Would you like me to …?"). Without
them the memory holds a bare "3" or "yes", and what was chosen is lost to search, to decisions
and to where the session left off."""

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
_NUMBERED = re.compile(r"^\s*(\d{1,2})[.)]\s+(.+)$")  # "1. **Remove it** - dead code", "2) Keep it"


def offered(text: str) -> dict[int, str]:
    """The items of the last numbered list (or numbered table) in ``text``, by number."""
    items: dict[int, str] = {}
    for line in text.splitlines():
        numbered = _NUMBERED.match(line)
        if numbered is not None:
            number, item = numbered.group(1), numbered.group(2).replace("**", "")
        elif (cells := table_cells(line)) and cells[0].isdigit():  # "| 3 | Add it | … |"
            number, item = cells[0], " - ".join(c for c in cells[1:] if c)
        else:
            continue
        if int(number) == 1:  # a list starting again: the last one is what the reply answers
            items = {}
        items[int(number)] = shorten(item.replace("`", ""), 160)
    return items


def picked(reply: str, offer: str) -> list[str]:
    """The offered items ``reply`` picks by number, as "N. item"; none unless each number it
    names is one of the last list's."""
    match = _PICK.match(reply) if len(reply) <= MAX_REPLY_CHARS else None
    if match is None:
        return []
    numbers = [int(match.group(1)), *map(int, _OTHER_NUMBER.findall(match.group(2)))]
    items = offered(offer)
    if not items or any(number not in items for number in numbers):
        return []
    return [f"{number}. {items[number]}" for number in dict.fromkeys(numbers)]


def with_choices(events: Iterable[Event]) -> Iterator[Event]:
    """``events``, each typed reply that picks by number followed by what it picked, and each
    bare one by the offer it accepted."""
    offer = ""
    for event in events:
        if isinstance(event, AssistantMessage) and not event.sidechain and event.text:
            offer = event.text
        elif isinstance(event, UserPrompt) and event.kind == "typed" and not event.sidechain:
            chosen = picked(event.text, offer)
            bare = len(event.text.split()) <= BARE_REPLY_WORDS and not _PICK.match(event.text)
            if not chosen and offer and bare:  # a number no list offered picks nothing
                chosen = [accepted] if (accepted := offer_in(offer)) else []
            if chosen:
                event = replace(event, text=f"{event.text} → {'; '.join(chosen)}")
            offer = ""
        yield event
