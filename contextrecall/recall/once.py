"""Say each thing once: the sentences a context block has shown already are left out of what
follows (a session's last request, its outcome, its summary and its latest exchange often
repeat one another word for word).

Pure and on the standard library: the hook imports it.
"""

from __future__ import annotations

import re
from functools import lru_cache

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
BULLET = re.compile(r"^- (?:\[[\d-]+\] )?")  # "- [2026-02-11] ": a block line's start
# "Last request: ", "Outcome: Noted: ", "Asked: ": labels, not what is said
_LABELS = re.compile(r"^(?:[\w .'-]{1,24}:\s+)+")
_QUOTES = "\"'`\u201c\u201d\u2018\u2019"
_LEADING = f" \t\n{_QUOTES}([-"  # marks around what is said, not part of it
_TRAILING = f" \t\n{_QUOTES})].,;:!?\u2026-"
_CUT = "\u2026"
MIN_WORDS = 3  # shorter sentences ("Done.", "Branch: main") may well repeat


@lru_cache(maxsize=4096)  # a block compares each sentence, then records it as shown
def said_as(sentence: str) -> str:
    """A sentence as compared: lower case, without its labels, quotes and end marks."""
    text = BULLET.sub("", " ".join(sentence.split())).lower()
    while True:  # 'Asked: "Remember: …"': labels inside quotes too
        plain = _LABELS.sub("", text).lstrip(_LEADING).rstrip(_TRAILING)
        if plain == text:
            return plain
        text = plain


class Said:
    """The sentences shown so far; ``novel`` keeps what has not been said yet."""

    def __init__(self) -> None:
        self.shown: set[str] = set()
        # the same, one line each: what a cut sentence begins is found with one search
        self.lines = ""

    def known(self, sentence: str) -> bool:
        """Whether ``sentence`` (compared as ``said_as``) was shown; a cut one ("…") counts
        as the one it begins."""
        plain = said_as(sentence)
        if len(plain.split()) < MIN_WORDS:
            return False
        if plain in self.shown:
            return True
        return sentence.rstrip().endswith(_CUT) and f"\n{plain}" in self.lines

    def add(self, text: str) -> None:
        said = [said_as(s) for line in text.splitlines() for s in _SENTENCE_END.split(line)]
        new = [s for s in said if s and s not in self.shown]
        self.shown.update(new)
        self.lines += "".join(f"\n{s}" for s in new)

    def novel(self, text: str, keep: str = "") -> str | None:
        """``text`` without the sentences shown already, or said earlier in ``text`` itself
        (line by line; ``add`` it once it is shown); None when nothing new is left besides
        ``keep``, a prefix that is never compared (a bullet and a date), or only short
        sentences a repeated one came with."""
        body = text[len(keep) :] if keep and text.startswith(keep) else text
        lines, dropped, telling = [], False, False
        here = Said()  # what ``text`` has said so far
        for line in body.splitlines():
            sentences = [s for s in _SENTENCE_END.split(line) if s.strip()]
            kept = []
            for sentence in sentences:
                if not (self.known(sentence) or here.known(sentence)):
                    kept.append(sentence)
                    here.add(sentence)
            dropped = dropped or len(kept) < len(sentences)
            telling = telling or any(len(said_as(s).split()) >= MIN_WORDS for s in kept)
            if kept:
                lines.append(" ".join(kept))
        if not lines or (dropped and not telling):  # "Outcome: Done." after what it repeated
            return None
        return (keep if body is not text else "") + "\n".join(lines)


def holds(text: str, part: str) -> bool:
    """Whether ``text`` already says ``part`` (a title its summary begins with, say)."""
    plain = said_as(part)
    return bool(plain) and plain in " ".join(text.split()).lower()
