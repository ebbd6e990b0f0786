"""Pure ranking pieces: rare-term choice for the text index, BM25 with collection statistics."""

from __future__ import annotations

from contextrecall.recall.ranking import TOTAL_TERM, bm25, rare_terms, stem, terms


def test_rare_terms_keep_the_rarest_within_the_posting_budget():
    counts = {"release": 5000, "zanzibar": 3, "key": 900, "checklist": 2500}
    assert rare_terms(["release", "zanzibar", "key", "checklist"], counts, 1000) == [
        "zanzibar",
        "key",
    ]
    assert rare_terms(["release", "zanzibar", "key"], counts, 100_000) == [
        "zanzibar",
        "key",
        "release",
    ]


def test_rare_terms_always_keep_one_word_that_was_seen_and_every_unseen_one():
    counts = {"release": 5000, "checklist": 2500}
    assert rare_terms(["release", "checklist", "novel"], counts, 10) == ["novel", "checklist"]
    assert rare_terms(["release", "release"], counts, 10) == ["release"]
    assert rare_terms([], counts, 10) == []


def test_collection_frequencies_weight_a_word_common_elsewhere_below_a_rare_one():
    documents = [terms("release zanzibar"), terms("release checklist")]
    local = bm25(["release", "checklist"], documents)
    # Among these two documents "release" is everywhere; in the collection it is common too,
    # while "checklist" is rare there: the second document must win by more.
    collection = {TOTAL_TERM: 10_000, "release": 9000, "checklist": 3, "zanzibar": 2}
    weighted = bm25(["release", "checklist"], documents, collection)
    assert weighted[1] > weighted[0] > 0 and local[0] > 0
    assert weighted[1] / weighted[0] > local[1] / local[0]


def test_stem_is_cached_and_still_pure():
    assert stem("painting") == stem("painting") == "paint"
    assert stem("series") == "sery"
    assert terms("The series of paintings") == ["sery", "paint"]
