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
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    did does also get got yes yeah oh ok okay really like just lot one thing things""".split()  # noqa: SIM905
)
TOTAL_TERM = ""  # the key under which document frequencies keep the number of documents


def estimate_tokens(text: str) -> int:
    """Tokens as estimated everywhere in Context Recall: ceil(len(text) / 4)."""
    return math.ceil(len(text) / 4)


_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) English stem, so 'painted', 'painting' and 'paints' meet
    'paint', and 'winning' meets 'win'."""
    return _STEMMER.stemWord(word)


def terms(text: str) -> list[str]:
    """The stemmed content words of ``text``."""
    return [stem(w) for w in WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


def counted_terms(title: str, text: str) -> set[str]:
    """The distinct terms a snippet adds to its project's document frequencies."""
    return {t for t in terms(f"{title} {text}") if len(t) <= 64}
