"""Taking a forgotten memory's text out of a session's stored transcript lines. Pure.

A memory is made of pieces of its transcript: a command and what it printed, a decision's
sentence, an exchange's request and answer. Each line of the memory (less the labels
compression adds, and a "…" where it was cut) is looked for in the transcript's strings,
whitespace taken loosely, and replaced by ``FORGOTTEN``; so is it in the project's other
memories that copied it (an exchange that quoted a fact). A line that changed is written
again as compact JSON; the digest of what it was is returned, so that the same line sent
again (an overlapping delta, a transcript read from the start) is known as held and never
stored again (see ``store.overlap``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from contextrecall.redaction import map_strings
from contextrecall.store.overlap import line_digest

FORGOTTEN = "[forgotten]"
MIN_FRAGMENT = 16  # characters: shorter pieces ("git status") would take unrelated text
# Labels compression puts before a piece of the transcript (exchanges, commands, summaries).
_LABEL = re.compile(r"^(?:Asked:|Then:|Last:|Earlier[^:]*:|\$|->\s*exit\s+\S+|->|-|\*)\s*")
_CUT = re.compile(r"\s*(?:…|\.\.\.)\s*$")


def fragments(texts: Iterable[str]) -> list[str]:
    """The pieces of ``texts`` (a memory's title and body) worth looking for, longest first."""
    found: dict[str, None] = {}
    for text in texts:
        for line in (text or "").splitlines():
            for piece in line.split(" | "):
                piece = _CUT.sub("", _LABEL.sub("", piece.strip())).strip().strip("\"'`")
                if len(piece) >= MIN_FRAGMENT:
                    found[piece] = None
    return sorted(found, key=len, reverse=True)


def _pattern(pieces: list[str]) -> re.Pattern[str] | None:
    if not pieces:
        return None
    loose = (r"\s+".join(re.escape(word) for word in piece.split()) for piece in pieces)
    return re.compile("|".join(f"(?:{p})" for p in loose))


def scrub_text(text: str, pieces: list[str]) -> str:
    """``text`` (a memory's) with ``pieces`` replaced."""
    pattern = _pattern(pieces)
    return pattern.sub(FORGOTTEN, text) if pattern is not None and text else text


def scrub(text: bytes, pieces: list[str]) -> tuple[bytes, set[bytes]]:
    """``text`` (transcript lines) with ``pieces`` replaced, and the digests of the lines
    that changed, as they were."""
    pattern = _pattern(pieces)
    if pattern is None:
        return text, set()
    out, changed = [], set()
    for line in text.splitlines(keepends=True):
        body = line.rstrip(b"\r\n")
        ending = line[len(body) :]
        decoded = body.decode("utf-8", errors="surrogateescape")
        try:
            value = json.loads(decoded)
        except ValueError:  # a line cut off mid-write: its text as it is
            new = pattern.sub(FORGOTTEN, decoded)
        else:
            scrubbed = map_strings(value, lambda text: pattern.sub(FORGOTTEN, text))
            new = (
                decoded
                if scrubbed == value
                else json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":"))
            )
        if new == decoded:
            out.append(line)
            continue
        changed.add(line_digest(body))
        out.append(new.encode("utf-8", errors="surrogateescape") + ending)
    return b"".join(out), changed
