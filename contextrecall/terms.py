"""The shared vocabulary of memory: words, stop words, Snowball stems, token estimates.

The write side counts a snippet's terms into its project's document frequencies; the read
side ranks by the same terms. Both import them from here, so they always agree.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import Stemmer

WORD = re.compile(r"[a-z0-9]+")
# English function words (NLTK's list, less a few contractions' pieces): the stop words of the
# benchmarks' coverage rule, which must not move when the product's own list below does.
ENGLISH_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves""".split()  # noqa: SIM905
)
# Memory's stop words: those, and words of talk that carry nothing a search could want.
STOPWORDS = ENGLISH_STOPWORDS | frozenset(
    "just also get got yes yeah oh ok okay really like lot one thing things".split()  # noqa: SIM905
)
TOTAL_TERM = ""  # the key under which document frequencies keep the number of documents
# How an exchange's memory starts the line of the errors it met: every excerpt of it shows
# that line, as it shows the request.
ERRORS_LABEL = "Errors: "


def estimate_tokens(text: str) -> int:
    """Tokens as estimated everywhere in Context Recall: ceil(len(text) / 4)."""
    return math.ceil(len(text) / 4)


_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) English stem, so 'painted', 'painting' and 'paints' meet
    'paint', and 'winning' meets 'win'."""
    return _STEMMER.stemWord(word)


# An identifier: words joined by _ . / : - (a path, snake_case, a dotted name, a --flag), or
# a camelCase word.
_COMPOUND = re.compile(
    r"[A-Za-z0-9]+(?:[_./:\-]+[A-Za-z0-9]+)+|[a-z0-9]+[A-Z][A-Za-z0-9]*|[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*"
)
_CAMEL = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_JOINS = frozenset("_./:-")
MAX_TERM = 64


def terms(text: str) -> list[str]:
    """The terms of ``text``: its content words, stemmed, and for code its identifiers both
    whole (lowercased, exact: ``ash_sqlite``, ``spotter_web/live``) and in parts (``ash``,
    ``sqlite``; camelCase ``SessionLive`` gives ``session``, ``live`` and ``sessionlive``).
    A copy of the list: callers may change it."""
    return list(_terms(text))


@lru_cache(maxsize=32768)
def _terms(text: str) -> tuple[str, ...]:
    """``terms``, cached: a long-running process ranks the same memories query after query."""
    found = _STEMMER.stemWords(
        [w for w in WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]
    )
    if _MAYBE_IDENTIFIER.search(text) is None:
        return tuple(found)  # plain prose: no identifiers (the common case, kept fast)
    for match in _COMPOUND.finditer(text):
        found.extend(identifier_terms(match.group(0)))
    return tuple(found)


_TOKEN = re.compile(r"[a-z0-9_]+")


def plain_terms(text: str) -> set[str]:
    """The distinct stems of ``text``'s plain words, split as a text index splits them: at
    anything but a letter, a digit or "_" (MariaDB's FULLTEXT keeps ``yaml_elixir`` whole,
    so it is one term here too), without the identifier terms ``terms`` adds."""
    return set(
        _STEMMER.stemWords(
            [w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]
        )
    )


# Cheap to scan for: a joiner between two word characters, or a camelCase hump.
_MAYBE_IDENTIFIER = re.compile(r"[A-Za-z0-9][_./:\-]+[A-Za-z0-9]|[a-z0-9][A-Z]")


@lru_cache(maxsize=65536)
def identifier_terms(identifier: str) -> tuple[str, ...]:
    """What an identifier adds to its words: the whole, each joined segment of a path or
    dotted name, and the parts of camelCase words."""
    extra: list[str] = []
    whole = identifier.lower().strip("_.:-/")
    if 3 <= len(whole) <= MAX_TERM:
        extra.append(whole)
    segments = [s for s in re.split(r"[/.:]+", identifier) if s]
    if len(segments) > 1:
        extra += [s.lower() for s in segments if _JOINS.intersection(s) and len(s) <= MAX_TERM]
    if "/" in identifier:  # a path: its file name too, as people name files
        name = identifier.rstrip("/").rsplit("/", 1)[-1].lower()
        if 3 <= len(name) <= MAX_TERM and name != whole:
            extra.append(name)
    for segment in re.split(r"[_./:\-]+", identifier):
        if not segment.islower() and not segment.isupper() and not segment.isdigit():
            parts = _CAMEL.findall(segment)
            if len(parts) > 1:
                extra += [stem(p.lower()) for p in parts if p.lower() not in STOPWORDS]
    return tuple(extra)


def counted_terms(title: str, text: str) -> set[str]:
    """The distinct terms a snippet adds to its project's document frequencies."""
    return {t for t in terms(f"{title} {text}") if len(t) <= 64}
