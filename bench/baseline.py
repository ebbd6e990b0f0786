"""The raw-text baselines the recall benchmarks measure Context Recall against.

- BM25 (k1 1.2, b 0.75, IDF ``ln(1 + (N - df + 0.5) / (df + 0.5))``) over raw documents (a
  transcript's messages, a conversation's turns), each cut into chunks of at most 200 tokens;
  the best-scoring chunks are packed until the budget is reached. Its terms are Context
  Recall's own (``contextrecall.terms.terms``: stop words out, Snowball stems, identifiers
  whole and in parts), so the baseline and the product rank with one vocabulary and differ
  only in what they keep and how they rank it.
- Recency: the last B tokens of the raw text in time order.

Tokens are ``ceil(characters / 4)``, as everywhere in Context Recall.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from contextrecall.terms import terms

CHUNK_TOKENS = 200
SEPARATOR = "\n\n"  # between the chunks or messages of a baseline's context
K1, B = 1.2, 0.75
_LAST_SPACE = re.compile(r"\s\S*\Z")


def chunks(text: str, limit: int = 4 * CHUNK_TOKENS) -> list[str]:
    """``text`` cut into consecutive pieces of at most ``limit`` characters (200 tokens), each
    ending at whitespace; a word longer than ``limit`` is cut where the limit falls."""
    pieces = []
    start = len(text) - len(text.lstrip())
    while start < len(text):
        if len(text) - start <= limit:
            pieces.append(text[start:].rstrip())
            break
        space = _LAST_SPACE.search(text, start, start + limit + 1)
        end = space.start() if space else start + limit
        pieces.append(text[start:end].rstrip())
        rest = text[end:]
        start = len(text) - len(rest.lstrip())
    return [p for p in pieces if p]


class BM25:
    """BM25 over the chunks of ``documents``, in their order."""

    def __init__(self, documents: Iterable[str]) -> None:
        self.chunks = [c for document in documents for c in chunks(document)]
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.lengths: list[int] = []
        for i, chunk in enumerate(self.chunks):
            counts = Counter(terms(chunk))
            self.lengths.append(sum(counts.values()))
            for term, count in counts.items():
                self.postings[term].append((i, count))
        self.average = sum(self.lengths) / max(len(self.lengths), 1)

    def ranked(self, query: str) -> list[str]:
        """The chunks holding any of ``query``'s terms, best first (ties in document order)."""
        n = len(self.chunks)
        scores: dict[int, float] = defaultdict(float)
        for term in set(terms(query)):
            found = self.postings.get(term, [])
            idf = math.log(1 + (n - len(found) + 0.5) / (len(found) + 0.5))
            for i, count in found:
                norm = K1 * (1 - B + B * self.lengths[i] / self.average)
                scores[i] += idf * count * (K1 + 1) / (count + norm)
        return [self.chunks[i] for i in sorted(scores, key=lambda i: (-scores[i], i))]

    def context(self, query: str, budget: int) -> str:
        """The best chunks for ``query``, each that still fits packed into ``budget`` tokens."""
        chosen: list[str] = []
        used = 0  # len(SEPARATOR.join(chosen))
        for chunk in self.ranked(query):
            cost = len(chunk) + (len(SEPARATOR) if chosen else 0)
            if math.ceil((used + cost) / 4) <= budget:
                chosen.append(chunk)
                used += cost
        return SEPARATOR.join(chosen)


def recency_context(texts: list[str], budget: int) -> str:
    """The last ``budget`` tokens of ``texts`` (in time order) joined."""
    text = SEPARATOR.join(texts)
    return text[-4 * budget :] if budget > 0 else ""
