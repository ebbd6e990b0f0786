"""The recall index's pure parts: records, postings, buckets, and how candidates are picked."""

from __future__ import annotations

from datetime import datetime

from contextrecall.recall import answer
from contextrecall.recall.index.format import decode, encode, pack, turn_field, unpack
from contextrecall.recall.index.redis_store import bucket, compact_id
from contextrecall.recall.ranking import (
    Item,
    candidate_rank,
    found_by,
    neighbour_keys,
    pick,
    scored_terms,
)
from contextrecall.terms import TOTAL_TERM, plain_terms


def _fields(item: Item) -> tuple:
    # every field but the cached terms (the index keeps them; the database computes them)
    return tuple(getattr(item, name) for name in Item.__slots__ if name != "scored")


def test_a_record_gives_back_every_field_of_its_item():
    items = [
        Item(
            "fact",
            "0b6c3a5e-1f2a-4c55-9d1e-0a4b5c6d7e8f",
            "I painted a lake at sunrise last week.",
            title="Melanie: I painted a lake at sunrise…",
            tags=("art",),
            relevance=0.75,
            usage=3,
            created_at=datetime(2023, 5, 8, 13, 56, 0, 123456),
            speaker="Melanie",
            when="2023-05-08T13:56:00.123456",
            session="session_1",
            part=0,
            position=7,
        ),
        Item("decision", "d1", "Use Kafka (because replay)", title="Decision"),
        Item("snippet", "s1", "$ make test -> exit 0", title="$ make test"),
        Item("session", "c1", "Summary", title="Moved the ledger", created_at=datetime(2024, 1, 1)),
    ]
    for item in items:
        again = decode(encode(item))
        assert _fields(again) == _fields(item)
        assert again.scored == scored_terms(item)  # kept, so a hook need not stem


def test_a_title_repeating_the_text_is_not_stored_twice():
    text = "Hey Caroline! How was the support group yesterday? " * 3
    fact = Item("fact", "x", text, title=f"Melanie: {text[:60]}…", speaker="Melanie")
    other = Item("fact", "x", text, title="Something else entirely", speaker="Melanie")
    assert len(encode(fact)) < len(encode(other))
    assert decode(encode(fact)).title == fact.title


def test_postings_pack_and_unpack():
    docnos = [0, 1, 255, 65_536, 4_000_000_000]
    assert unpack(pack(docnos)) == docnos
    assert unpack(pack(docnos[:2]) + pack(docnos[2:])) == docnos  # appended lists concatenate
    assert unpack(b"") == []


def test_buckets_are_stable_and_spread():
    assert bucket("deploy", 1) == 0
    assert bucket("deploy", 64) == bucket("deploy", 64) == bucket(b"deploy", 64)
    assert len({bucket(f"word{n}", 16) for n in range(500)}) == 16


def test_a_uuid_id_is_kept_in_16_bytes():
    assert compact_id("0b6c3a5e-1f2a-4c55-9d1e-0a4b5c6d7e8f") == bytes.fromhex(
        "0b6c3a5e1f2a4c559d1e0a4b5c6d7e8f"
    )
    assert compact_id("manual-42") == b"manual-42"
    assert compact_id("not-a-uuid-but-thirty-six-characters") == (
        b"not-a-uuid-but-thirty-six-characters"
    )


def test_turn_fields_tell_places_apart():
    assert turn_field("s", 0, 1) != turn_field("s", None, 1) != turn_field("s", 0, 11)


def test_plain_terms_split_as_a_text_index_does():
    assert plain_terms("yaml_elixir and LiveViewTest in CLAUDE.md") == {
        "yaml_elixir",
        "liveviewtest",
        "claud",
        "md",
    }


def test_found_by_keeps_snake_case_whole_and_leaves_out_short_and_title_words_of_a_turn():
    turn = Item("fact", "t", "We deployed ash_sqlite today, _x and y_", title="Caroline: We…")
    assert found_by(turn) == {"deploy", "ash_sqlit", "today"}  # stemmed, as a query is
    snippet = Item("snippet", "s", "body words", title="Deploy notes")
    assert {"deploy", "note", "bodi", "word"} <= found_by(snippet)


def test_pick_prefers_rarer_words_then_newer_then_the_greater_id():
    old = Item("snippet", "a", "x", created_at=datetime(2024, 1, 1))
    new = Item("snippet", "b", "x", created_at=datetime(2024, 6, 1))
    rare = Item("snippet", "c", "x", created_at=datetime(2023, 1, 1))
    counts = {TOTAL_TERM: 1000, "common": 500, "rare": 2}
    postings = {"common": [old, new, rare], "rare": [rare]}
    assert pick(postings, counts, 3) == [rare, new, old]
    assert pick(postings, counts, 1) == [rare]
    twin = Item("snippet", "a2", "x", created_at=datetime(2024, 1, 1))
    assert pick({"common": [old, twin]}, counts, 2) == [twin, old]  # equal: by id
    assert candidate_rank(old, 1.0) > candidate_rank(old, 0.5)


def test_neighbour_keys_are_the_turns_around_those_held():
    turns = [Item("fact", str(n), "t", session="s", part=0, position=n) for n in (5, 6)]
    assert neighbour_keys(turns, 2) == {("s", 0, 3), ("s", 0, 4), ("s", 0, 7), ("s", 0, 8)}
    assert neighbour_keys([Item("fact", "z", "t", session="s", part=0, position=0)], 2) == {
        ("s", 0, 1),
        ("s", 0, 2),
    }


class _Memory:
    """An ``answer.Source`` over a list of items, as any real source must behave."""

    def __init__(self, items: list[Item], counts: dict[str, int], reverse: bool = False):
        self.items, self.counts, self.reverse = items, counts, reverse

    def frequencies(self, wanted):
        return {t: n for t, n in self.counts.items() if t in wanted or t == TOTAL_TERM}

    def latest(self, kind, count):
        kinds = {"snippet": ("snippet", "fact")}.get(kind, (kind,))
        found = [i for i in self.items if i.kind in kinds]
        return sorted(found, key=lambda i: (i.created_at, i.id), reverse=True)[:count]

    def matching(self, kind, words, frequencies, wanted):
        kinds = {"snippet": ("snippet", "fact")}.get(kind, (kind,))
        found = [i for i in self.items if i.kind in kinds]
        postings = {w: [i for i in found if w in found_by(i)] for w in words}
        return pick(postings, frequencies, wanted)

    def neighbours(self, items):
        keys = neighbour_keys(items)
        found = [i for i in self.items if (i.session, i.part, i.position) in keys]
        return found[::-1] if self.reverse else found


def test_candidates_do_not_depend_on_the_order_a_source_finds_neighbours_in():
    turns = [
        Item(
            "fact",
            f"t{n}",
            f"turn {n} about kayaks" if n == 4 else f"turn {n}",
            session="s",
            part=0,
            position=n,
            created_at=datetime(2024, 1, 1, 0, n),
        )
        for n in range(9)
    ]
    counts = {TOTAL_TERM: 9, "kayak": 1, "turn": 9}
    one, _ = answer.candidates(_Memory(turns, counts), "kayaks?", 1000)
    other, _ = answer.candidates(_Memory(turns, counts, reverse=True), "kayaks?", 1000)
    assert [i.id for i in one] == [i.id for i in other] == ["t4", "t2", "t3", "t5", "t6"]
