"""One answer from any source of memory: the database and the index pick candidates and rank
them with the same code here, so they return the same items.

Pure orchestration over a ``Source`` (plain ``Item`` objects in, a context block out): no
database, no Redis. The hook imports it, so it stays on the standard library.
"""

from __future__ import annotations

from contextrecall.recall.ranking import (
    Item,
    asks_state,
    fill_budget,
    is_index_word,
    query_terms,
    rank,
    rare_terms,
    turn_key,
)
from contextrecall.terms import plain_terms, terms

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime
    from typing import Protocol

    class Source(Protocol):
        """Where a project's memory is read from: the database or the index."""

        def frequencies(self, wanted: Sequence[str]) -> dict[str, int]:
            """Document counts of ``wanted`` terms, the total under ``TOTAL_TERM``."""

        def matching(
            self, kind: str, words: Sequence[str], frequencies: dict[str, int], wanted: int
        ) -> list[Item]:
            """The ``wanted`` items of ``kind`` best holding ``words`` (``ranking.pick``)."""

        def latest(self, kind: str, count: int) -> list[Item]:
            """The ``count`` newest items of ``kind``."""

        def neighbours(self, items: Sequence[Item]) -> list[Item]:
            """The chat turns next to the turns among ``items`` that are not among them."""


# Kinds of memory as sources keep them: session summaries, decisions, and snippets (which
# include chat facts).
SESSION, DECISION, SNIPPET = "session", "decision", "snippet"
PROMPT_BUDGET = 1000  # tokens of context for a typed prompt
PROMPT_HEADER = "# Context Recall: memory relevant to this prompt"
MAX_OUTPUT_CHARS = 9_500  # Claude Code takes additionalContext under 10,000 characters
MAX_ITEMS = 500  # items in one answer
MAX_QUERY_CHARS = 10_000  # a longer prompt is ranked by its beginning
TEXT_POSTINGS = 3000  # index matches a search may cost: the rarer query words add up to this
SNIPPET_CANDIDATES = 200  # at least; more for a budget that holds more (5 tokens an item)
MAX_SNIPPET_CANDIDATES = 2000
LATEST = {SESSION: 20, DECISION: 50}  # always candidates: how things stand now
MATCHED = {SESSION: 50, DECISION: 100}  # older ones, by the query's words
RESUMED, RESUMED_TITLE = "resumed", "Where the last session left off"
# Without a query there is nothing to match: the newest memories are ranked.
UNQUERIED = {SESSION: 200, DECISION: 500, SNIPPET: 20_000}


def index_words(query: str | None, frequencies: dict[str, int]) -> list[str]:
    """The query's words candidates are found by: its rarer plain words, snake_case ones
    whole and stemmed as an item's are (``found_by``), whose document counts add up to at
    most ``TEXT_POSTINGS``. (Other identifiers rank whole, but a text index splits them at
    their punctuation.)"""
    words = [*query_terms(query), *sorted(plain_terms(query or ""))]
    candidates = [term for term in dict.fromkeys(words) if len(term) >= 3 and is_index_word(term)]
    return rare_terms(candidates, frequencies, TEXT_POSTINGS) if candidates else []


def snippet_candidates(budget: int) -> int:
    return min(max(SNIPPET_CANDIDATES, budget // 5), MAX_SNIPPET_CANDIDATES)


def candidates(
    source: Source, query: str | None, budget: int
) -> tuple[list[Item], dict[str, int] | None]:
    """The items worth ranking for ``query``, and the term counts ranking weighs them by."""
    if not query:
        kinds = (SESSION, DECISION, SNIPPET)
        return [item for kind in kinds for item in source.latest(kind, UNQUERIED[kind])], None
    frequencies = source.frequencies([t for t in dict.fromkeys(terms(query)) if 3 <= len(t) <= 64])
    words = index_words(query, frequencies)
    items: list[Item] = []
    for kind in (SESSION, DECISION):
        found = source.latest(kind, LATEST[kind])
        if words:
            found += source.matching(kind, words, frequencies, MATCHED[kind])
        items += _unique(found)
    if not words:
        return items, frequencies
    snippets = source.matching(SNIPPET, words, frequencies, snippet_candidates(budget))
    # in the order of the conversation, whichever order the source found them in
    neighbours = sorted(
        source.neighbours(snippets),
        key=lambda i: (str(i.session), i.part or 0, i.position or 0, i.id),
    )
    return items + snippets + neighbours, frequencies


def _unique(items: list[Item]) -> list[Item]:
    seen: set[str] = set()
    return [item for item in items if not (item.id in seen or seen.add(item.id))]


def ranked_block(
    source: Source,
    query: str | None,
    budget: int,
    limit: int | None,
    now: datetime,
    header: str = "",
    resumed: Callable[[], str] | None = None,
) -> tuple[str, list[tuple[float, Item]]]:
    """The context block for ``query`` within ``budget`` tokens, and the items chosen."""
    ranked, neighbours = ranked_items(source, query, budget, now, resumed)
    return fill_budget(ranked, budget, limit, neighbours, header=header, focus=query_terms(query))


def ranked_items(
    source: Source,
    query: str | None,
    budget: int,
    now: datetime,
    resumed: Callable[[], str] | None = None,
) -> tuple[list[tuple[float, Item]], dict[tuple[str | None, int | None, int], Item]]:
    """Every candidate for ``query`` with its score, best first, and the chat turns among
    them by their place. ``resumed`` says where the latest session left off: a query asking
    how things stand gets that first."""
    items, frequencies = candidates(source, query, budget)
    neighbours = {key: item for item in items if (key := turn_key(item)) is not None}
    speakers = {i.speaker for i in items if i.speaker}
    ranked = rank(query, items, now, speakers, frequencies)
    if resumed is not None and asks_state(query):  # "still failing?", "what is left?"
        state = resumed()
        if state:
            top = ranked[0][0] if ranked else 1.0
            ranked.insert(0, (top, Item(SESSION, RESUMED, state, title=RESUMED_TITLE)))
    return ranked, neighbours


def clears_bar(prompt: str, chosen: Sequence[tuple[float, Item]]) -> bool:
    """Whether a prompt's answer is worth injecting: at least one chosen item shares two of
    the prompt's content words (one, for a one-word prompt)."""
    wanted = set(terms(prompt))
    needed = min(2, len(wanted))
    return bool(wanted) and any(
        len(wanted & set(terms(item.text + " " + item.title))) >= needed for _, item in chosen
    )
