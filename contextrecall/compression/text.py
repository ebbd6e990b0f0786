"""Small text operations compression is built from: redact, shorten, split sentences."""

from __future__ import annotations

import re
from collections.abc import Iterator

from contextrecall.redaction import redact

_SPACE = re.compile(r"\s+")
_CODE_FENCE = re.compile(r"```.*?(?:```|$)", re.S)
# A list item: its marker ("- ", "* ", "• ", "1. ", "2) ") and its text
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.+)$")
_TABLE_ROW = re.compile(r"^\s*\|(.+)\|\s*$", re.M)
_TABLE_RULE = re.compile(r"^[\s|:-]*-{3}[\s|:-]*$", re.M)
# emphasis, headings, list and quote markers, and lines that only draw: rules, tables
_MARKDOWN = re.compile(
    rf"\*\*|__|^#+\s*|{_TABLE_RULE.pattern}|{_TABLE_ROW.pattern}|^\s*[-*>]\s+|^\s*\d+\.\s+",
    re.M,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(\[])|\n+")


def squash(text: str) -> str:
    """Whitespace runs collapsed to single spaces."""
    return _SPACE.sub(" ", text).strip()


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    text = squash(text)
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    if cut < limit // 2:
        cut = limit - 1
    return text[:cut].rstrip(" ,;:-(") + "…"


def clean(text: str, limit: int) -> str:
    """Redacted first (so no secret is cut in half and missed), then shortened."""
    return shorten(redact(text), limit)


def plain(text: str) -> str:
    """Prose without code blocks and markdown markers."""
    return _MARKDOWN.sub("", _CODE_FENCE.sub(" ", text))


def sentences(text: str) -> Iterator[str]:
    """Sentences and bullet lines of prose (code blocks dropped), whitespace squashed."""
    for piece in _SENTENCE_END.split(plain(text)):
        piece = squash(piece)
        if piece:
            yield piece


def _leading(said: list[str], limit: int, minimum: int = 1) -> int:
    """How many of the sentences ``said``, from the first, fit in ``limit`` characters (at
    least ``minimum``)."""
    size = 0
    for n, sentence in enumerate(said):
        if n >= minimum and size + len(sentence) + 1 > limit:
            return n
        size += len(sentence) + 1
    return len(said)


def first_sentences(text: str, limit: int) -> str:
    """As many leading sentences of ``text`` as fit in ``limit`` characters (at least one)."""
    said = list(sentences(text))
    return shorten(" ".join(said[: _leading(said, limit)]), limit)


def first_and_last_sentences(text: str, limit: int) -> str:
    """``text``'s sentences in ``limit`` characters; when they do not all fit, its first in
    half of them and its last in the rest: a report ends on where things stand and what it
    asks of the person."""
    said = list(sentences(text))
    if _leading(said, limit) == len(said):
        return shorten(" ".join(said), limit)
    opening = first_sentences(text, limit // 2)
    rest = said[_leading(said, limit // 2) :][::-1]
    closing = rest[: _leading(rest, limit - len(opening) - 3, minimum=0)][::-1]
    return f"{opening} … {' '.join(closing)}" if closing else opening


def words(text: str) -> list[str]:
    """Lowercase word tokens."""
    return re.findall(r"[a-z0-9][a-z0-9'_-]*", text.lower())


def table_cells(line: str) -> list[str] | None:
    """The cells of a markdown table row (``| **a** | b |``), without emphasis; None for any
    other line, a table's rule (``|---|---|``) included."""
    row = _TABLE_ROW.match(line)
    if row is None or _TABLE_RULE.match(line):
        return None
    return [cell.strip().replace("**", "") for cell in row.group(1).split("|")]


def is_table_rule(line: str) -> bool:
    return bool(_TABLE_RULE.match(line))
