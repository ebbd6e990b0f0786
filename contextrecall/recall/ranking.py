"""Ranking memory for recall: BM25 text relevance blended with tags, decayed relevance,
recency and use; then a token budget filled with the best items, without near-duplicates.

Pure functions over plain ``Item`` objects: no database, no cache.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")
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
K1, B = 1.2, 0.75
TOTAL_TERM = ""  # the key under which document frequencies keep the number of documents
DUPLICATE_OVERLAP = 0.8  # an item sharing this much of its words with a chosen one is dropped


def estimate_tokens(text: str) -> int:
    """Tokens as estimated everywhere in Context Recall: ceil(len(text) / 4)."""
    return math.ceil(len(text) / 4)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper, so 'painted', 'painting' and 'paints' meet 'paint'."""
    for suffix in ("ingly", "ings", "ing", "edly", "ed", "ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if suffix == "ies":
                word += "y"
            break
    return word


def terms(text: str) -> list[str]:
    """The stemmed content words of ``text``."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


class Item:
    """One recallable memory: a session summary, a decision, a snippet or a chat fact."""

    __slots__ = (
        "created_at",
        "id",
        "kind",
        "part",
        "position",
        "relevance",
        "session",
        "speaker",
        "tags",
        "text",
        "title",
        "usage",
        "when",
    )

    def __init__(
        self,
        kind: str,
        id: str,
        text: str,
        *,
        title: str = "",
        tags: Sequence[str] = (),
        relevance: float = 1.0,
        usage: int = 0,
        created_at: datetime | None = None,
        speaker: str | None = None,
        when: str | None = None,
        session: str | None = None,
        part: int | None = None,
        position: int | None = None,
    ) -> None:
        self.kind, self.id, self.text, self.title = kind, id, text, title
        self.tags, self.relevance, self.usage = tuple(tags), relevance, usage
        self.created_at, self.speaker, self.when = created_at, speaker, when
        self.session, self.part, self.position = session, part, position

    def render(self) -> str:
        """The item as one line of a context block: its date, its speaker, its text."""
        date = (self.when or (self.created_at.isoformat() if self.created_at else ""))[:10]
        head = f"[{date}] " if date else ""
        who = f"{self.speaker}: " if self.speaker else ""
        body = self.text if self.kind in {"fact", "snippet"} else f"{self.title} - {self.text}"
        return f"- {head}{who}{body}".strip()


def rare_terms(query: Sequence[str], frequencies: Mapping[str, int], postings: int) -> list[str]:
    """The query's rarest distinct terms whose document counts add up to at most ``postings``,
    and always the rarest term found at all: a text index matching only these scores few rows.
    Unseen terms cost nothing and stay (as prefixes they may still match a longer word)."""
    ordered = sorted(dict.fromkeys(query), key=lambda t: (frequencies.get(t, 0), t))
    chosen, total, found = [], 0, False
    for term in ordered:
        count = frequencies.get(term, 0)
        if found and total + count > postings:
            break
        chosen.append(term)
        total += count
        found = found or count > 0
    return chosen


def bm25(
    query: Sequence[str],
    documents: Sequence[Sequence[str]],
    frequencies: Mapping[str, int] | None = None,
) -> list[float]:
    """Okapi BM25 of each document for ``query``.

    IDF comes from ``frequencies`` (document counts over the whole collection, its size under
    ``TOTAL_TERM``) when given, so candidates picked by an index are weighted as in the whole
    collection; otherwise from these documents.
    """
    if not documents or not query:
        return [0.0] * len(documents)
    lengths = [len(d) for d in documents]
    average = (sum(lengths) / len(lengths)) or 1.0
    counts_per_document = [Counter(d) for d in documents]
    df: Counter[str] = Counter()
    for counts in counts_per_document:
        df.update(set(counts))
    n = len(documents)
    if frequencies and frequencies.get(TOTAL_TERM, 0) > n:
        n = frequencies[TOTAL_TERM]
        df = Counter({t: max(df[t], frequencies.get(t, 0)) for t in set(query)})
    weights = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in set(query) if df[t]}
    scores = []
    for counts, length in zip(counts_per_document, lengths, strict=True):
        score = 0.0
        for term, idf in weights.items():
            tf = counts.get(term, 0)
            if tf:
                score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
        scores.append(score)
    return scores


def rank(
    query: str | None,
    items: Sequence[Item],
    now: datetime,
    speakers: Iterable[str] = (),
    frequencies: Mapping[str, int] | None = None,
) -> list[tuple[float, Item]]:
    """Items with their scores, best first; with a query, only items it matches at all.

    score = text (BM25, scaled to 0..1 by the best match) + 0.3 x share of query words among
    the item's tags + 0.1 x decayed relevance + 0.05 x recency (half-life 30 days)
    + 0.05 x use (log-scaled).
    """
    query_terms = terms(query) if query else []
    speaker_names = {stem(s.lower()) for s in speakers}
    documents = [terms(f"{i.title} {i.text} {i.speaker or ''}") for i in items]
    text_scores = bm25(query_terms, documents, frequencies) if query_terms else [0.0] * len(items)
    best = max(text_scores, default=0.0) or 1.0
    ranked = []
    for item, text_score in zip(items, text_scores, strict=True):
        tag_terms = {stem(t) for tag in item.tags for t in _WORD.findall(tag.lower())}
        tag_share = (
            len(tag_terms & set(query_terms)) / len(set(query_terms)) if query_terms else 0.0
        )
        if query_terms and text_score <= 0 and tag_share <= 0:
            continue
        age_days = (now - item.created_at).total_seconds() / 86400 if item.created_at else 365
        score = (
            text_score / best
            + 0.3 * tag_share
            + 0.1 * min(item.relevance, 1.0)
            + 0.05 * 0.5 ** (max(age_days, 0) / 30)
            + 0.05 * min(math.log1p(item.usage) / 5, 1.0)
        )
        if item.speaker and speaker_names and stem(item.speaker.lower()) in speaker_names:
            score += 0.05
        ranked.append((score, item))
    ranked.sort(key=lambda pair: -pair[0])
    return ranked


def _near_duplicate(words: set[str], chosen: list[set[str]]) -> bool:
    if not words:
        return False
    return any(len(words & other) / len(words) >= DUPLICATE_OVERLAP for other in chosen)


def fill_budget(
    ranked: Sequence[tuple[float, Item]],
    budget: int,
    limit: int | None = None,
    neighbours: dict[tuple[str | None, int | None, int], Item] | None = None,
    header: str = "",
) -> tuple[str, list[tuple[float, Item]]]:
    """The best items that fit in ``budget`` tokens (never more), as (text, chosen).

    A chat fact brings its next turn along when that fits too (an answer often follows the
    line a question matches); near-duplicates of chosen items are skipped.
    """
    lines: list[str] = [header] if header else []
    used = estimate_tokens(header + "\n") if header else 0
    if used > budget:
        return "", []
    chosen: list[tuple[float, Item]] = []
    seen_ids: set[str] = set()
    seen_words: list[set[str]] = []

    def take(score: float, item: Item) -> bool:
        nonlocal used
        if item.id in seen_ids:
            return False
        line = item.render()
        cost = estimate_tokens(line + "\n")
        if used + cost > budget:
            return False
        words = set(terms(item.text))
        if _near_duplicate(words, seen_words):
            return False
        lines.append(line)
        used += cost
        chosen.append((score, item))
        seen_ids.add(item.id)
        seen_words.append(words)
        return True

    for score, item in ranked:
        if limit is not None and len(chosen) >= limit:
            break
        if take(score, item) and neighbours and item.position is not None:
            following = neighbours.get((item.session, item.part, item.position + 1))
            if following is not None and (limit is None or len(chosen) < limit):
                take(score * 0.5, following)
    return "\n".join(lines), chosen
