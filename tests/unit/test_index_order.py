"""The recall index picks among equals by docno: what holds whatever order memory arrives in.

A common word ties thousands of candidates; the index numbers memory in rank order so it picks
the best of them by number, and lists as odd what arrived out of that order. These tests write
a real index file (the embedded default's, on the standard library) batch by batch, as syncs
do, and check it picks exactly what ``ranking.pick`` picks over the same memory.
"""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import datetime, timedelta

import pytest

from contextrecall.recall.index import keeper
from contextrecall.recall.index.file_store import FileIndex
from contextrecall.recall.index.format import FORMAT, Changes, order_key
from contextrecall.recall.index.keeper import changes_of, indexed_already
from contextrecall.recall.index.reader import IndexSource
from contextrecall.recall.ranking import Item, candidate_rank, found_by, pick
from contextrecall.terms import TOTAL_TERM

WORDS = ["kayak", "paint", "garden", "violin", "recipe"]
START = datetime(2024, 1, 1)


def _memory(rng: random.Random, count: int) -> list[Item]:
    """Snippets of one to three common words, at few distinct times (many equal)."""
    return [
        Item(
            "snippet",
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            " ".join(rng.sample(WORDS, rng.randint(1, 3))),
            title="note",
            created_at=START + timedelta(minutes=rng.randint(0, 20)),
        )
        for _ in range(count)
    ]


def _in_rank_order(items: list[Item]) -> list[Item]:
    """As a sync reads a save's memory: by time, then id, the least first."""
    return sorted(items, key=lambda i: (i.created_at, i.id))


def _index(tmp_path, batches: list[list[Item]]) -> FileIndex:
    """An index file written one batch at a time, each as a sync writes it."""
    index = FileIndex(str(tmp_path), "project")
    placed: dict[str, str] = {}
    next_docno = 0
    for batch in batches:
        known = indexed_already(index, batch)
        changes, next_docno = changes_of(_in_rank_order(batch), known, next_docno, placed)
        index.write(changes)
    assert index.meta("last:snippet") == placed["snippet"]
    return index


def _counts(items: list[Item]) -> dict[str, int]:
    counts = {TOTAL_TERM: len(items)}
    for item in items:
        for word in found_by(item):
            counts[word] = counts.get(word, 0) + 1
    return counts


def _picked_by_both(index: FileIndex, items: list[Item], words: list[str], wanted: int):
    counts = _counts(items)
    postings = {w: [i for i in items if w in found_by(i)] for w in words}
    by_ranking = [item.id for item in pick(postings, counts, wanted)]
    by_index = [item.id for item in IndexSource(index).matching("snippet", words, counts, wanted)]
    return by_index, by_ranking


def test_order_keys_sort_as_candidates_rank():
    rng = random.Random(3)
    for a, b in itertools.combinations(_memory(rng, 120), 2):
        if order_key(a) < order_key(b):
            assert candidate_rank(a, 1.0) > candidate_rank(b, 1.0)
        elif order_key(a) > order_key(b):
            assert candidate_rank(a, 1.0) < candidate_rank(b, 1.0)


@pytest.mark.parametrize("seed", range(6))
def test_the_index_picks_as_ranking_does_whatever_order_memory_arrives_in(tmp_path, seed):
    rng = random.Random(seed)
    items = _memory(rng, 300)
    arrived = items[:]
    rng.shuffle(arrived)  # saves of other sessions, other machines, old transcripts
    cuts = sorted(rng.sample(range(1, len(arrived)), 12))
    batches = [arrived[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrived)], strict=True)]
    again = rng.sample(items, 40)  # saved again: written in place, in rank order or not
    index = _index(tmp_path, [*batches, again])
    assert index.odd("snippet"), "shuffled memory must leave some docnos out of rank order"
    for words in (["kayak"], ["paint", "violin"], WORDS):
        for wanted in (1, 7, 50, 200):
            by_index, by_ranking = _picked_by_both(index, items, words, wanted)
            assert by_index == by_ranking, (words, wanted)


def test_memory_arriving_in_order_leaves_nothing_odd(tmp_path):
    rng = random.Random(11)
    items = _in_rank_order(_memory(rng, 200))
    index = _index(tmp_path, [items[n : n + 25] for n in range(0, len(items), 25)])
    assert index.odd("snippet") == set()
    by_index, by_ranking = _picked_by_both(index, items, ["garden"], 20)
    assert by_index == by_ranking


def test_an_index_gathering_odd_docnos_is_due_for_a_rebuild(tmp_path, monkeypatch):
    monkeypatch.setattr(keeper, "ODD_AT_MOST", 10)
    rng = random.Random(5)
    items = _memory(rng, 200)
    shuffled = _index(tmp_path / "shuffled", [items[n : n + 10] for n in range(0, 200, 10)])
    ordered = _index(tmp_path / "ordered", [_in_rank_order(items)])
    for index in (shuffled, ordered):
        index.write(_meta(next=str(len(items))))
    odd = len(shuffled.odd("snippet"))
    assert odd > 20
    assert keeper.disordered(shuffled)
    assert not keeper.disordered(ordered)
    # what a build itself listed odd does not count: a rebuild would list it again
    shuffled.write(_meta(odd_built=str(odd - 5)))
    assert not keeper.disordered(shuffled)


def test_an_index_of_an_earlier_format_counts_as_missing(tmp_path):
    index = _index(tmp_path, [_memory(random.Random(2), 5)])
    index.write(_meta(stamp="0", format="1"))
    assert index.open()[0] is None
    index.write(_meta(format=FORMAT))
    assert index.open()[0] == 0


def _meta(**fields: str) -> Changes:
    changes = Changes()
    changes.meta = fields
    return changes


@pytest.mark.parametrize("before", ["no index yet", "an index in another order"])
def test_a_build_reads_the_file_it_writes_not_the_index_it_replaces(tmp_path, before):
    """Saves synced while a rebuild runs are added to the file it writes: what that file
    holds of them (docno and order key) is read from it, whether or not an index exists."""
    items = _memory(random.Random(7), 30)
    if before != "no index yet":
        _index(
            tmp_path, [list(reversed(_in_rank_order(items)))[n : n + 5] for n in range(0, 30, 5)]
        )
    index = FileIndex(str(tmp_path), "project")
    index.start_build(0, len(items))
    built, _ = changes_of(_in_rank_order(items[:20]), {}, 0, {})
    index.write(built)
    known = indexed_already(index, items[10:])  # some saved again while it ran
    assert set(known) == {item.id for item in items[10:20]}
    assert all(key == built.order_keys[docno] for docno, key in known.values())
