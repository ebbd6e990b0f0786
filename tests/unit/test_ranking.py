"""Pure ranking pieces: rare-term choice for the text index, BM25 with collection statistics,
chat turns ranked by their neighbours, speakers and dates, and compact, budgeted blocks."""

from __future__ import annotations

from datetime import datetime

from contextrecall.recall.compact import compact
from contextrecall.recall.dates import NamedDate, date_match, named_dates
from contextrecall.recall.ranking import (
    FOCUS_CHARS,
    FOCUS_SLACK,
    GAP,
    Item,
    bm25,
    fill_budget,
    focused,
    query_terms,
    rank,
    rare_terms,
)
from contextrecall.terms import ERRORS_LABEL, TOTAL_TERM, estimate_tokens, stem, terms


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
    query = terms("release checklist")
    local = bm25(query, documents)
    # Among these two documents "release" is everywhere; in the collection it is common too,
    # while "checklist" is rare there: the second document must win by more.
    release, checklist, zanzibar = terms("release checklist zanzibar")
    collection = {TOTAL_TERM: 10_000, release: 9000, checklist: 3, zanzibar: 2}
    weighted = bm25(query, documents, collection)
    assert weighted[1] > weighted[0] > 0 and local[0] > 0
    assert weighted[1] / weighted[0] > local[1] / local[0]


def test_stem_is_snowball_so_inflections_meet():
    assert stem("painting") == stem("painted") == stem("paints") == "paint"
    assert stem("winning") == stem("wins") == "win"
    assert stem("cities") == stem("city") == "citi"
    assert terms("The series of paintings") == ["seri", "paint"]


def chat(speaker: str, text: str, position: int, day: str = "2023-05-08", session: str = "s1"):
    return Item(
        "fact",
        f"{session}-{position}",
        text,
        title=f"{speaker}: {text}"[:90],
        speaker=speaker,
        when=f"{day}T13:56:00",
        session=session,
        part=0,
        position=position,
    )


NOW = datetime(2026, 11, 25)
TALK = [
    chat("Ana", "Who performed at the concert for your daughter's birthday?", 0),
    chat("Bo", "It was Matt Patterson, he is so talented!", 1),
    chat("Ana", "I adopted a puppy from the shelter last week.", 2),
    chat("Bo", "My garden needs more sunflowers this year.", 3),
]


def test_compact_drops_function_words_and_fillers_but_never_facts():
    text = "Hey Mel! I went to a LGBTQ support group yesterday and it was so powerful."
    assert compact(text) == "Mel! went LGBTQ support group yesterday powerful."
    assert compact("I didn't go, not in 2 weeks.") == "didn't go, not 2 weeks."
    long = "We were at the museum with the 3 kids and they loved the dinosaur bones"
    kept = compact(long).split()
    assert kept == ["museum", "3", "kids", "loved", "dinosaur", "bones"]


def test_named_dates_read_the_usual_spellings():
    assert named_dates("What did Nate make on 9 November, 2022?") == [NamedDate(2022, 11, 9)]
    assert named_dates("as said on May 3rd, 2023") == [NamedDate(2023, 5, 3)]
    assert named_dates("What happened in January 2024?") == [NamedDate(2024, 1, None)]
    assert named_dates("When did she go camping in July?") == [NamedDate(None, 7, None)]
    assert named_dates("the 2023-05-08 release") == [NamedDate(2023, 5, 8)]
    assert named_dates("May I ask what happened?") == []
    # a coding session's questions name the day and leave the year, often by its short name
    assert named_dates("After the first pass on Feb 19, what failed?") == [NamedDate(None, 2, 19)]
    assert named_dates("the morning of July 22") == [NamedDate(None, 7, 22)]
    assert named_dates("the 3rd of Sept.") == [NamedDate(None, 9, 3)]
    assert named_dates("you may 2x the timeout") == [] and named_dates("the Augment 3 run") == []


def test_a_query_naming_no_month_compiles_no_date_pattern():
    """The prompt hook ranks every prompt; most name no date, and compiling the patterns
    costs each hook process about 1.5 ms."""
    from contextrecall.recall import dates

    dates._patterns.cache_clear()
    assert named_dates("Where did we leave the cart totals, and why 2 retries?") == []
    assert dates._patterns.cache_info().currsize == 0
    assert named_dates("the 2026-02-19 run") == [NamedDate(2026, 2, 19)]
    assert dates._patterns.cache_info().currsize == 1


def test_date_match_is_strongest_on_the_day_then_the_week_or_month():
    day = named_dates("on 9 November, 2022")
    assert date_match(day, "2022-11-09T10:00:00") == 1.0
    assert date_match(day, "2022-11-14") == 0.5
    assert date_match(day, "2022-12-09") == 0.0
    assert date_match(named_dates("in July"), "2019-07-30") == 0.5
    assert date_match(named_dates("in July 2020"), "2019-07-30") == 0.0
    assert date_match(day, None) == 0.0 and date_match([], "2022-11-09") == 0.0
    no_year = named_dates("on Aug 10")  # in the memory's own year
    assert date_match(no_year, "2026-08-10T23:00:00") == 1.0
    assert date_match(no_year, "2025-08-12") == 0.5 and date_match(no_year, "2026-09-10") == 0.0
    assert date_match(named_dates("on Dec 31"), "2027-01-02") == 0.5  # across the new year
    assert date_match(named_dates("on Feb 29"), "2024-02-29") == 1.0  # a leap day, 2023 has none


def test_an_answer_ranks_by_the_question_it_answers():
    ranked = [item.id for _, item in rank("Who performed at the concert?", TALK, NOW)]
    # The answer shares no word with the query, but follows the turn that does.
    assert ranked[:2] == ["s1-0", "s1-1"]
    assert "s1-3" not in ranked


def test_turns_by_the_person_named_and_from_the_day_named_rank_higher():
    turns = [
        chat("Ana", "The shelter had a puppy adoption day.", 0, "2023-01-02"),
        chat("Bo", "I adopted a puppy from the shelter!", 1, "2023-01-02"),
        chat("Bo", "We adopted a cat from the shelter.", 0, "2023-03-09", "s2"),
    ]
    assert rank("What did Bo adopt?", turns, NOW)[0][1].speaker == "Bo"
    assert rank("What did Ana adopt?", turns, NOW)[0][1].speaker == "Ana"
    on_the_day = rank("What was adopted on 9 March, 2023?", turns, NOW)
    assert on_the_day[0][1].id == "s2-0"


def test_a_coding_memory_from_the_day_a_question_names_ranks_first():
    runs = [
        Item(
            "snippet", f"run-{day}", f"$ gh api packages/versions --jq .{n}", when=f"{day}T09:00:00"
        )
        for n, day in enumerate(["2026-08-09", "2026-08-10", "2026-08-12"])
    ]
    asked = "What did we run on Aug 10 to list the package versions?"
    assert rank(asked, runs, NOW)[0][1].id == "run-2026-08-10"
    assert rank("What did we run to list the package versions?", runs, NOW)[0][1].id != (
        "run-2026-08-10"
    )


def test_a_chat_turn_holding_more_of_the_question_ranks_above_one_repeating_a_rare_word():
    turns = [
        chat("Ana", "Pottery! Pottery class pottery.", 0, session="s1"),
        chat("Ana", "My sister took me to a pottery class in Paris last summer.", 0, session="s2"),
        chat("Ana", "Paris in summer is hot; my sister hates it.", 0, session="s3"),
    ]
    query = "Where did your sister take a pottery class?"
    assert rank(query, turns, NOW)[0][1].id == turns[1].id
    # Without the coverage scale, the short turn repeating the rarest word wins on BM25.
    words = query_terms(query)
    plain = bm25(words, [terms(t.text) for t in turns])
    assert plain[0] > plain[1]
    # Other memory is not scaled: the same texts as snippets rank by BM25 alone.
    snippets = [Item("snippet", t.id, t.text) for t in turns]
    assert rank(query, snippets, NOW)[0][1].id == turns[0].id


def test_a_memory_just_over_the_focus_limit_is_shown_whole():
    line = "Commits: abc1234 feat: one more change to the parser and its tests"
    just_over = "\n".join([line] * int(FOCUS_CHARS * FOCUS_SLACK // (len(line) + 1)))
    assert FOCUS_CHARS < len(just_over) <= FOCUS_CHARS * FOCUS_SLACK
    assert focused(just_over, {stem("parser")}) == just_over
    far_over = "\n".join([f"{n} unrelated words about lunch" for n in range(60)] + [line])
    cut = focused(far_over, {stem("parser")})
    assert GAP in cut and line in cut and len(cut) < len(far_over)


def test_a_line_introducing_a_table_or_list_brings_it_along():
    filler = [f"Step {n}: checked the unrelated widget number {n} again." for n in range(30)]
    table = [
        "**Authorized JavaScript origins:**",
        "| Origin | Environment |",
        "|--------|-------------|",
        "| `http://localhost:5173` | Local dev |",
        "| `https://app.example.com` | Production |",
        "Then a closing remark about nothing in particular.",
    ]
    text = "\n".join(["Asked: set up the client", *filler[:10], *table, *filler[10:]])
    cut = focused(text, set(query_terms("Which JavaScript origins did we authorize?")))
    assert "`http://localhost:5173`" in cut and "`https://app.example.com`" in cut
    assert "closing remark" not in cut  # the table ends where its rows do
    plain = text.replace("origins:**", "origins**")  # a line that introduces nothing
    assert "`https://app.example.com`" not in focused(plain, set(query_terms("JavaScript")))


def test_an_exchange_excerpt_always_shows_the_errors_it_met():
    narration = [f"Wired widget {n} into the page and checked its layout." for n in range(40)]
    error = f"{ERRORS_LABEL}Read: EISDIR: illegal operation on a directory, read"
    text = "\n".join(["Asked: build the page", *narration, error])
    cut = focused(text, set(query_terms("How did we wire the widgets into the page?")))
    assert GAP in cut and error in cut.splitlines()


def test_fill_budget_groups_turns_by_date_writes_them_compactly_and_keeps_to_the_budget():
    ranked = rank("concert puppy shelter", TALK, NOW)
    neighbours = {(i.session, i.part, i.position): i for i in TALK}
    text, chosen = fill_budget(ranked, 1000, neighbours=neighbours)
    assert text.splitlines()[0] == "[2023-05-08]"
    assert "Bo: Matt Patterson, talented!" in text.splitlines()
    assert "Ana: adopted puppy shelter last week." in text.splitlines()
    assert {item.id for _, item in chosen} >= {"s1-0", "s1-1", "s1-2"}
    for budget in range(1, 80):
        text, chosen = fill_budget(ranked, budget, neighbours=neighbours)
        assert estimate_tokens(text) <= budget
        assert bool(text) == bool(chosen)


def test_a_question_brings_its_answer_and_near_duplicates_are_skipped():
    question = chat("Ana", "Which band played at the wedding?", 0)
    answer = chat("Bo", "The Wolves, a local group.", 1)
    copy = chat("Ana", "Which band played at the wedding?", 0, session="s2")
    ranked = [(1.0, question), (0.9, copy)]
    text, chosen = fill_budget(ranked, 1000, neighbours={("s1", 0, 1): answer})
    assert [item.id for _, item in chosen] == ["s1-0", "s1-1"]
    assert text.splitlines() == [
        "[2023-05-08]",
        "Ana: band played wedding?",
        "Bo: Wolves, local group.",
    ]


def test_the_query_words_side_by_side_rank_a_memory_above_the_same_words_apart():
    query = "Where is the session state file kept?"
    apart = Item("snippet", "apart", "The file lists each session; its state is kept in memory.")
    together = Item("snippet", "together", "The session state file is kept in memory; each lists.")
    # The same words, as often: BM25 alone cannot tell them apart.
    words = query_terms(query)
    plain = bm25(words, [terms(apart.text), terms(together.text)])
    assert plain[0] == plain[1]
    for items in ([apart, together], [together, apart]):
        ranked = rank(query, items, NOW)
        assert ranked[0][1].id == "together"
        assert ranked[0][0] > ranked[1][0]
    # Not chat turns: a question about a conversation rephrases what was said.
    turns = [chat("Ana", apart.text, 0, session="a"), chat("Ana", together.text, 0, session="b")]
    scores = [score for score, _ in rank(query, turns, NOW)]
    assert scores[0] == scores[1]


def test_a_query_asking_how_things_stand_ranks_the_later_of_two_like_memories_first():
    """A query asking how things stand ("Is the login test still failing?"): of two memories
    its words match alike, the later says so; a query not asking so leaves them tied."""
    earlier = Item(
        "snippet", "earlier", "The login test is failing.", created_at=datetime(2026, 3, 1, 9)
    )
    later = Item(
        "snippet", "later", "The login test is failing?", created_at=datetime(2026, 3, 2, 9)
    )
    for items in ([earlier, later], [later, earlier]):
        asked = rank("Is the login test still failing?", items, NOW)
        assert [item.id for _, item in asked] == ["later", "earlier"]
        assert asked[0][0] > asked[1][0]
        plain = rank("Why is the login test failing?", items, NOW)
        assert plain[0][0] == plain[1][0]
    # Chat turns are not a project's state: a conversation's "still" favours no date.
    turns = [chat("Ana", earlier.text, 0, session="a"), chat("Ana", later.text, 0, session="b")]
    for turn, memory in zip(turns, (earlier, later), strict=True):
        turn.created_at = memory.created_at
    scores = [score for score, _ in rank("Is Ana still failing the test?", turns, NOW)]
    assert scores[0] == scores[1]
