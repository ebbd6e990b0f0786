"""Recall read from the index the worker keeps: the hook's path, on the standard library.

``IndexSource`` is an ``answer.Source``: the same candidates and the same ranking as the
database gives, from Redis or the local index file. When the index is missing or not current
(``fresh_index`` returns None) callers read the database instead: slower, never wrong.
"""

from __future__ import annotations

from collections import Counter

from contextrecall.recall import answer
from contextrecall.recall.index.format import decode, turn_field
from contextrecall.recall.index.store import index_kept, open_index
from contextrecall.recall.ranking import (
    NEIGHBOUR_REACH,
    Item,
    candidate_rank,
    found_scores,
    neighbour_keys,
)
from contextrecall.terms import TOTAL_TERM

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from contextrecall.recall.index.file_store import FileIndex
    from contextrecall.recall.index.redis_store import RedisIndex
    from contextrecall.settings import Settings


def fresh_index(settings: Settings, identity: str) -> FileIndex | RedisIndex | None:
    """The project's index when it is current with its memory, else None (missing, stale,
    or unreadable, or none kept here)."""
    if not index_kept(settings):
        return None
    index = open_index(settings, identity)
    try:
        stamp, current = index.open()
    except Exception:  # Redis down, a file half-written: the database answers
        return None
    return index if stamp is not None and stamp == current else None


class IndexIncomplete(Exception):
    """The index names a memory it holds no record of (Redis evicted part of it): the
    database answers instead."""


def _present(records: list) -> list:
    if any(record is None for record in records):
        raise IndexIncomplete("a record the index names is missing")
    return records


class IndexSource:
    """One project's memory read from its index, as an ``answer.Source``."""

    def __init__(self, index: FileIndex | RedisIndex) -> None:
        self.index = index

    def frequencies(self, wanted: Sequence[str]) -> dict[str, int]:
        return self.index.frequencies([TOTAL_TERM, *wanted])

    def resumed(self) -> str:
        """Where the latest session left off, as the keeper rendered it with the
        session-start block; while that lags the index, the database answers."""
        resumed = self.index.meta("resume") or ""
        if resumed and self.index.meta("start_stamp") != str(self.index.stamp):
            raise IndexIncomplete("the rendered state lags the index")
        return resumed

    def _items(self, docnos: Sequence[int]) -> list[Item]:
        return [decode(r) for r in _present(self.index.records(docnos))]

    def latest(self, kind: str, count: int) -> list[Item]:
        return self._items(self.index.newest(kind, count))

    def matching(
        self, kind: str, words: Sequence[str], frequencies: dict[str, int], wanted: int
    ) -> list[Item]:
        postings, dead = self.index.postings(kind, words)
        if dead:
            postings = {w: [d for d in docnos if d not in dead] for w, docnos in postings.items()}
        score = found_scores(postings, frequencies)
        docnos = list(score)
        if len(docnos) > wanted:
            docnos = self._best(kind, score, wanted)
        records = _present(self.index.records(docnos))
        items = [(decode(r), score[d]) for d, r in zip(docnos, records, strict=True)]
        items.sort(key=lambda pair: candidate_rank(*pair), reverse=True)
        return [item for item, _ in items[:wanted]]

    def _best(self, kind: str, score: dict[int, float], wanted: int) -> list[int]:
        """The docnos that may be among the ``wanted`` best of ``score`` (``candidate_rank``):
        those scoring above the cut, and of those tied at it (a common word ties thousands)
        the best by order key. Docnos in rank order rank by their number; only the odd ones
        and as many of the others as are wanted need their order keys."""
        counts = Counter(score.values())
        if len(counts) == 1:  # one word, or all held alike: all tie
            above, tied = [], list(score)
        else:
            taken = 0
            for cut in sorted(counts, reverse=True):
                if taken + counts[cut] >= wanted:
                    break
                taken += counts[cut]
            above = [d for d, s in score.items() if s > cut]
            tied = [d for d, s in score.items() if s == cut]
        need = wanted - len(above)
        odd = self.index.odd(kind)
        tied.sort()  # fast: postings are runs of growing docnos
        best: list[int] = []
        for docno in reversed(tied):
            if len(best) == need:
                break
            if docno not in odd:
                best.append(docno)
        tied = best + ([d for d in tied if d in odd] if odd else [])
        keys = dict(zip(tied, self.index.order_keys(tied), strict=True))
        tied.sort(key=keys.__getitem__)
        last = keys[tied[need - 1]]
        return above + [d for d in tied if keys[d] <= last]  # equal keys: by record

    def neighbours(self, items: Sequence[Item], reach: int = NEIGHBOUR_REACH) -> list[Item]:
        fields = [turn_field(*key) for key in neighbour_keys(items, reach)]
        return self._items([d for d in self.index.turns(fields) if d is not None])


def ranked_block(
    settings: Settings,
    identity: str,
    query: str,
    budget: int,
    limit: int | None,
    now: datetime,
    header: str = "",
) -> tuple[str, list[tuple[float, Item]]] | None:
    """``answer.ranked_block`` over the project's index; None when the index is not current
    or cannot be read whole (a rebuild switching under us, Redis gone, a record evicted):
    the database answers instead."""
    index = fresh_index(settings, identity)
    if index is None:
        return None
    try:
        source = IndexSource(index)
        return answer.ranked_block(
            source, query, budget, limit, now, header=header, resumed=source.resumed
        )
    except Exception:
        return None
