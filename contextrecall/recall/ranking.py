"""Ranking memory for recall: BM25 text relevance (a chat turn read with its neighbours)
blended with the speaker and the date a query names and decayed relevance; then a token
budget filled with the best items, without near-duplicates, chat turns written compactly
under their dates.

Pure functions over plain ``Item`` objects: no database, no cache.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import pairwise

from contextrecall.recall.compact import compact
from contextrecall.recall.dates import date_match, named_dates
from contextrecall.recall.once import Said, holds
from contextrecall.terms import ERRORS_LABEL, TOTAL_TERM, WORD, estimate_tokens, plain_terms, terms

TYPE_CHECKING = False  # typing costs the prompt hook its import: annotations are strings
if TYPE_CHECKING:
    from typing import TypeVar

    K = TypeVar("K")

K1, B = 1.2, 0.75
DUPLICATE_OVERLAP = 0.8  # an item sharing this much of its words with a chosen one is dropped


class Item:
    """One recallable memory: a session summary, a decision, a snippet or a chat fact."""

    __slots__ = (
        "created_at",
        "id",
        "kind",
        "part",
        "position",
        "relevance",
        "scored",
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
        self.scored: list[str] | None = None  # ``scored_terms``, when known

    def focused(self, wanted: Collection[str]) -> Item:
        """This item with its text compressed for a query (``focused``); itself when short."""
        return self.with_text(focused(self.text, wanted))

    def without_lines_shown(self, shown: set[tuple[str, ...]]) -> Item | None:
        """This item without the lines whose words another item already showed (a session
        summary repeating its compaction summary); None when nothing new is left."""
        lines = self.text.splitlines()
        kept = []
        for line in lines:
            runs = shingles(terms(line))
            if len(runs) >= 2 and len(runs & shown) >= DUPLICATE_OVERLAP * len(runs):
                continue
            kept.append(line)
        if len(kept) == len(lines):
            return self
        if not any(terms(line) for line in kept if line != GAP):
            return None
        return self.with_text("\n".join(kept))

    def with_text(self, text: str) -> Item:
        """This item saying ``text`` instead (itself when that is its text)."""
        if text == self.text:
            return self
        copy = self._copy()
        copy.text, copy.scored = text, None
        return copy

    def _copy(self) -> Item:
        copy = Item.__new__(Item)
        for name in Item.__slots__:
            setattr(copy, name, getattr(self, name))
        return copy

    def date(self) -> str:
        """The item's day (ISO), from when it happened or else when it was stored."""
        return (self.when or (self.created_at.isoformat() if self.created_at else ""))[:10]

    def render(self) -> str:
        """The item as one line of a context block: its date, its speaker, its text."""
        date = self.date()
        head = f"[{date}] " if date else ""
        who = f"{self.speaker}: " if self.speaker else ""
        plain = self.kind in {"fact", "snippet"} or holds(self.text, self.title)
        body = self.text if plain else f"{self.title} - {self.text}"
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


def found_by(item: Item) -> frozenset[str]:
    """The words an item is found by when candidates are picked: the plain words (3 to 64
    letters, digits or inner "_": ``mcp_start``, ``deleted_session_states``, which MariaDB's
    index keeps whole and SQLite's finds as a phrase) of what ranking reads. A chat turn's
    title is the start of its text, so it adds nothing."""
    title = "" if item.kind == "fact" else item.title
    return _found_words(f"{title} {item.text} {item.speaker or ''}")


@lru_cache(maxsize=8192)
def _found_words(text: str) -> frozenset[str]:
    """``found_by``, cached: the database path reads the same rows question after question."""
    return frozenset(t for t in plain_terms(text) if 3 <= len(t) <= 64 and is_index_word(t))


def is_index_word(term: str) -> bool:
    """Whether a text index can find ``term``: letters and digits, joined by "_" or not."""
    return term.replace("_", "").isalnum() and not term.startswith("_") and not term.endswith("_")


def found_scores(
    postings: Mapping[str, Collection[K]], frequencies: Mapping[str, int]
) -> dict[K, float]:
    """Each key's summed IDF of the query words ``postings`` (word -> keys holding it) finds
    it by: how well it holds the query's rarer words, which picks the candidates."""
    total = max(frequencies.get(TOTAL_TERM, 0), 1)
    score: dict[K, float] = {}
    for term, keys in postings.items():
        found = max(frequencies.get(term, 0), len(keys))
        idf = math.log(1 + (max(total, found) - found + 0.5) / (found + 0.5))
        if not score:  # the first word's keys all score its IDF (a common word has many)
            score = dict.fromkeys(keys, idf)
            continue
        for key in keys:
            score[key] = score.get(key, 0.0) + idf
    return score


EPOCH = datetime(1970, 1, 1)
MICROSECOND = timedelta(microseconds=1)


def moment(item: Item) -> int:
    """When an item was stored, in whole microseconds (0 when unknown)."""
    return (item.created_at - EPOCH) // MICROSECOND if item.created_at else 0


def candidate_rank(item: Item, score: float) -> tuple:
    """How candidates compare, the best greatest: by ``found_scores``, then newer, then by
    id (the greater first, as the newest items are listed). Sort with ``reverse=True``."""
    return (score, moment(item), item.id)


def pick(postings: Mapping[str, Collection[Item]], frequencies: Mapping[str, int], wanted: int):
    """The ``wanted`` items holding the query's words best (``candidate_rank``). The database
    and the index pick with it, so they agree."""
    score = found_scores(postings, frequencies)
    return sorted(score, key=lambda item: candidate_rank(item, score[item]), reverse=True)[:wanted]


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
    counted = [Counter(d) for d in documents]
    return _okapi(term_weights(query, counted, frequencies), counted, [len(d) for d in documents])


def term_weights(
    query: Sequence[K],
    counted: Sequence[Mapping[K, int]],
    frequencies: Mapping[str, int] | None = None,
) -> dict[K, float]:
    """The IDF of each query term (or pair of terms) that these documents (their counts) or
    the collection hold, as ``bm25`` weighs them."""
    wanted = set(query)
    df = Counter({t: sum(1 for counts in counted if t in counts) for t in wanted})
    n = len(counted)
    if frequencies and frequencies.get(TOTAL_TERM, 0) > n:
        n = frequencies[TOTAL_TERM]
        df = Counter({t: max(df[t], frequencies.get(t, 0)) for t in wanted})
    return {t: _idf(n, df[t]) for t in wanted if df[t]}


def _idf(total: int, found: int) -> float:
    return math.log(1 + (total - found + 0.5) / (found + 0.5))


def _okapi(
    weights: Mapping[K, float], counts_per_document: Sequence[Mapping[K, int]], lengths: list[int]
) -> list[float]:
    """BM25's sum over the weighted keys (words, or pairs of words) each document holds."""
    average = (sum(lengths) / len(lengths)) or 1.0
    scores = []
    for counts, length in zip(counts_per_document, lengths, strict=True):
        score = 0.0
        for key, idf in weights.items():
            tf = counts.get(key, 0)
            if tf:
                score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
        scores.append(score)
    return scores


# A chat turn's score is scaled by the share of the query's weight (IDF) it holds, to this
# power: a question names several things (who, what, when) and the turn asked about holds
# them together, where a turn repeating one rare word does not.
TURN_COVERAGE = 0.5


def scored_terms(item: Item) -> list[str]:
    """The terms text scores read of the item (the index keeps them with the item, so a hook
    need not stem its candidates again)."""
    if item.scored is not None:
        return item.scored
    title = "" if item.kind == "fact" else item.title
    return terms(f"{title} {item.text} {item.speaker or ''}")


# Two query words side by side in a memory, in the query's order ("state file", "session
# picker"), say it is about what the query asks more surely than the same words apart (the
# sequential dependence model): the BM25 of such pairs, scaled to the words' best score, is
# added at this share. Not in chat turns: a question about a conversation rephrases what was
# said (on LoCoMo dev, phrases cost 3 questions), where one about code quotes its names.
PHRASE_WEIGHT = 0.2


def _phrase_scores(wanted: Sequence[str], texts: Sequence[Sequence[str]]) -> list[float]:
    """BM25 of the query's adjacent term pairs each text (its terms) holds adjacent, in
    order; weighed among these texts, as no counts of pairs are kept."""
    pairs = set(pairwise(wanted))
    if not pairs or not texts:
        return [0.0] * len(texts)
    counted = [Counter(p for p in pairwise(t) if p in pairs) for t in texts]
    return _okapi(term_weights(list(pairs), counted), counted, [len(t) for t in texts])


def _text_scores(
    wanted: Sequence[str], items: Sequence[Item], frequencies: Mapping[str, int] | None
) -> list[float]:
    """BM25 of each item, with its phrases (``PHRASE_WEIGHT``) or, for a chat turn, scaled by
    the share of the query it holds (``TURN_COVERAGE``)."""
    if not items:
        return []
    texts = [scored_terms(item) for item in items]
    counted = [Counter(text) for text in texts]
    weights = term_weights(wanted, counted, frequencies)
    scores = _okapi(weights, counted, [len(text) for text in texts])
    if any(item.kind == "fact" for item in items):
        whole = sum(weights.values()) or 1.0
        scores = [
            f * (sum(w for t, w in weights.items() if t in c) / whole) ** TURN_COVERAGE
            if f and item.kind == "fact"
            else f
            for f, c, item in zip(scores, counted, items, strict=True)
        ]
    coding = [n for n, item in enumerate(items) if item.kind != "fact"]
    phrases = _phrase_scores(wanted, [texts[n] for n in coding])
    if best_phrase := max(phrases, default=0.0):
        scale = PHRASE_WEIGHT * max(scores) / best_phrase
        for n, phrase in zip(coding, phrases, strict=True):
            scores[n] += scale * phrase
    return scores


def query_terms(query: str | None) -> list[str]:
    """The terms a query is ranked by: its content words."""
    return terms(query) if query else []


# A chat turn is read in its conversation: it also gets these shares of the text scores of
# the turns one and two places before and after it.
NEIGHBOUR_SHARES = ((-2, 0.3), (-1, 0.6), (1, 0.6), (2, 0.3))
NAMED_SPEAKER = 0.6  # a turn by the person the query names
DATE_WEIGHT = 1.0  # a memory from the day the query names (half that for its week or month)
# A tie-breaker between items the text scores alike: decayed relevance, which already
# weighs a memory's age and its use (``maintenance.relevance``).
RELEVANCE_WEIGHT = 0.1


# Words asking how things stand now; such a query favours the project's latest memories
# (coding memories only: a conversation's "still" is not about a project's state).
STATE_WORDS = frozenset(
    """still yet now currently current latest last left remaining anymore finished done
    pending open status uncommitted""".split()  # noqa: SIM905
)
STATE_RECENCY = 0.3
STATE_HALF_LIFE_HOURS = 24.0


def asks_state(query: str | None) -> bool:
    """Whether ``query`` asks how things stand now (``STATE_WORDS``)."""
    return bool(query and STATE_WORDS.intersection(WORD.findall(query.lower())))


NEIGHBOUR_REACH = max(abs(offset) for offset, _ in NEIGHBOUR_SHARES)  # turns to read around


def turn_key(item: Item, offset: int = 0) -> tuple[str | None, int | None, int] | None:
    """Where a chat turn sits (session, part, position), moved by ``offset`` turns; None for
    memories that are not turns."""
    return None if item.position is None else (item.session, item.part, item.position + offset)


def neighbour_keys(
    items: Iterable[Item], reach: int = NEIGHBOUR_REACH
) -> set[tuple[str | None, int | None, int]]:
    """Where the chat turns up to ``reach`` places around the turns among ``items`` sit,
    those among them left out."""
    have = {key for item in items if (key := turn_key(item)) is not None}
    return {
        (session, part, position + offset)
        for session, part, position in have
        for offset in range(-reach, reach + 1)
        if offset and position + offset >= 0
    } - have


@lru_cache(maxsize=4096)
def _name_terms(name: str) -> frozenset[str]:
    return frozenset(terms(name))


def rank(
    query: str | None,
    items: Sequence[Item],
    now: datetime,
    speakers: Iterable[str] = (),
    frequencies: Mapping[str, int] | None = None,
) -> list[tuple[float, Item]]:
    """Items with their scores, best first; with a query, only items it bears on at all.

    score = text + 0.6 when the item is a turn by a speaker the query names + 1 when it is
    from a date the query names (0.5 for the same week or month) + 0.1 x decayed relevance
    (which weighs age and use); + 0.3 x recency within the project when the query asks how
    things stand. text is BM25, plus 0.2 x that of the query's word pairs found side by side
    (``PHRASE_WEIGHT``), scaled to 0..1 by the best match; a chat turn adds 0.6 x the
    text scores of the turns next to it and 0.3 x those two places away, since an answer
    rarely repeats the words of the question it answers.
    """
    wanted = query_terms(query)
    wanted_set = set(wanted)
    named: set[str] = set()
    for speaker in speakers:
        if _name_terms(speaker) & wanted_set:
            named |= _name_terms(speaker)
    dates = named_dates(query) if query else []
    # A chat turn's title is the start of its text: counting it would weigh those words twice.
    raw = _text_scores(wanted, items, frequencies) if wanted else [0.0] * len(items)
    best = max(raw, default=0.0) or 1.0
    turn_index = {key: n for n, item in enumerate(items) if (key := turn_key(item)) is not None}

    def text_score(n: int, item: Item) -> float:
        score = raw[n]
        for offset, share in NEIGHBOUR_SHARES:
            other = turn_index.get(turn_key(item, offset))
            if other is not None:
                score += share * raw[other]
        return score / best

    # "Is X still open?", "what is left?": the project's latest memories say how things stand.
    state = asks_state(query)
    newest = max((i.created_at for i in items if i.created_at), default=now)
    ranked = []
    for n, item in enumerate(items):
        text = text_score(n, item)
        by_named = bool(named and item.speaker and _name_terms(item.speaker) & named)
        dated = DATE_WEIGHT * date_match(dates, item.date())
        if wanted and text <= 0 and not by_named and not dated:
            continue
        score = (
            text + NAMED_SPEAKER * by_named + dated + RELEVANCE_WEIGHT * min(item.relevance, 1.0)
        )
        if state and item.kind != "fact" and item.created_at:
            hours = (newest - item.created_at).total_seconds() / 3600
            score += STATE_RECENCY * 0.5 ** (max(hours, 0) / STATE_HALF_LIFE_HOURS)
        ranked.append((score, item))
    ranked.sort(key=lambda pair: -pair[0])
    return ranked


def shingles(words: Sequence[str]) -> set[tuple[str, ...]]:
    """The runs of three consecutive terms of a text (its words when it has fewer): two texts
    share most of them only when one really repeats the other, not when they merely use the
    same words (a fix for one branch and a fix for another)."""
    if len(words) < 3:
        return {tuple(words)} if words else set()
    return set(zip(words, words[1:], words[2:], strict=False))


def _near_duplicate(runs: set[tuple[str, ...]], chosen: list[set[tuple[str, ...]]]) -> bool:
    if not runs:
        return False
    return any(len(runs & other) / len(runs) >= DUPLICATE_OVERLAP for other in chosen)


FOCUS_CHARS = 800  # a longer memory is shown by its lines that bear on the query
# A memory at most a quarter over that is shown whole: cutting it would save few tokens and
# lose whole lines (the last commit of a session's list, the end of an answer).
FOCUS_SLACK = 1.25
GAP = "…"


def focused(text: str, wanted: Collection[str], limit: int | None = None) -> str:
    """``text`` compressed for a query: its first line and the line of errors it met, then
    the lines (a long line: its sentences) that bear on the query, each with what follows it
    (``_following``), in their order, within about ``limit`` characters; what is left out
    shows as "…". Lines are picked greedily by the query terms they add to those already
    shown (a term shown once counts a third after), each weighted by how few of the text's
    lines hold it, so the excerpt covers the question, its specific words first. Texts up to
    ``FOCUS_SLACK`` times ``limit`` (``FOCUS_CHARS``) come back whole."""
    limit = limit or FOCUS_CHARS
    if len(text) <= limit * FOCUS_SLACK or not wanted:
        return text
    wanted = set(wanted)
    pieces = _pieces(text)
    found = [wanted.intersection(terms(piece)) for piece in pieces]
    holding = Counter(term for hits in found for term in hits)
    weight = {t: math.log(1 + len(pieces) / (1 + count)) for t, count in holding.items()}
    keep = {0} | {i for i, piece in enumerate(pieces) if piece.startswith(ERRORS_LABEL)}
    covered = set().union(*(found[i] for i in keep))
    used = sum(len(pieces[i]) + 1 for i in keep)

    def gain(hits: set[str]) -> float:
        return sum(weight[t] for t in hits - covered) + sum(weight[t] for t in hits & covered) / 3

    while used < limit:
        best, best_gain = -1, 0.0
        for index, hits in enumerate(found):
            if index in keep or not hits:
                continue
            value = gain(hits) / (1 + len(pieces[index]) / 400)  # short lines saying it win
            if value > best_gain:
                best, best_gain = index, value
        if best < 0:
            break
        for index in (best, *_following(pieces, best)):  # when there is room
            if index >= len(pieces) or index in keep:
                continue
            if used + len(pieces[index]) > limit:
                if index != best:
                    break
                pieces[index] = _around(pieces[index], found[index], max(120, limit - used))
            keep.add(index)
            covered |= found[index]
            used += len(pieces[index]) + 1
    out, last = [], -1
    for index in sorted(keep):
        if index != last + 1:
            out.append(GAP)
        out.append(
            pieces[index] if len(pieces[index]) <= limit else _around(pieces[index], wanted, limit)
        )
        last = index
    if last != len(pieces) - 1:
        out.append(GAP)
    return "\n".join(out)


_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
_INTRODUCES = re.compile(r":[*_`]*\s*$")  # "**Authorized origins:**", "You'll need to:"
_LIST_LINE = re.compile(r"^\s*(?:[-*•+]|\d+[.)]|\|)")  # a list item or a table row


def _following(pieces: list[str], index: int) -> range:
    """What a line shown brings along: the line after it (where the answer to a line naming
    the query's words usually is); for a line introducing a list or table ("…:"), the whole
    list or table."""
    end = index + 1
    if _INTRODUCES.search(pieces[index]):
        while end < len(pieces) and _LIST_LINE.match(pieces[end]):
            end += 1
    return range(index + 1, max(end, index + 2))


def _pieces(text: str) -> list[str]:
    """Lines, and the sentences of lines too long to show whole."""
    pieces = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if len(line) > FOCUS_CHARS // 2:
            pieces += [s for s in _SENTENCE.split(line) if s.strip()]
        else:
            pieces.append(line)
    return pieces or [text]


def _around(piece: str, wanted: set[str], width: int) -> str:
    """The ``width`` characters of ``piece`` around its first query term."""
    lowered = piece.lower()
    positions = [p for t in wanted if (p := lowered.find(t)) >= 0]
    start = max(0, min(positions, default=0) - width // 3)
    cut = piece[start : start + width]
    return f"{GAP}{cut}" if start else cut


class _Block:
    """A context block being filled: plain lines in rank order, then chat turns grouped under
    their date and session in time order, each turn as "Speaker: compacted text". Tracks
    its exact size, so the budget is checked without rendering it again."""

    def __init__(self, header: str) -> None:
        self.header = header
        self.lines: list[str] = []
        self.groups: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self.count = 1 if header else 0
        self.chars = len(header)

    def cost(self, item: Item) -> tuple[int, int]:
        """(characters, lines) that adding ``item`` costs."""
        line = self.line(item)
        group = self.group(item)
        if group is None or group in self.groups:
            return len(line), 1
        return len(line) + len(self.heading(group)), 2

    def tokens_with(self, item: Item) -> int:
        """The block's tokens once ``item`` is in (lines are joined by newlines)."""
        chars, count = self.cost(item)
        return math.ceil((self.chars + chars + self.count + count - 1) / 4)

    def add(self, item: Item) -> None:
        chars, count = self.cost(item)
        self.chars += chars
        self.count += count
        group = self.group(item)
        if group is None:
            self.lines.append(self.line(item))
        else:
            self.groups.setdefault(group, []).append((item.position or 0, self.line(item)))

    @staticmethod
    def group(item: Item) -> tuple[str, str] | None:
        if item.kind != "fact" or not item.speaker:
            return None
        return (item.date(), item.session or "")

    @staticmethod
    def heading(group: tuple[str, str]) -> str:
        return f"[{group[0] or 'undated'}]"

    @classmethod
    def line(cls, item: Item) -> str:
        if cls.group(item) is None:
            return item.render()
        return f"{item.speaker}: {compact(item.text)}"

    def text(self) -> str:
        out = [self.header] if self.header else []
        out += self.lines
        for group in sorted(self.groups):
            out.append(self.heading(group))
            out += [line for _, line in sorted(self.groups[group], key=lambda pair: pair[0])]
        return "\n".join(out)


_SMALLEST = Item("snippet", "", "-")


def fill_budget(
    ranked: Sequence[tuple[float, Item]],
    budget: int,
    limit: int | None = None,
    neighbours: dict[tuple[str | None, int | None, int], Item] | None = None,
    header: str = "",
    focus: Collection[str] = (),
) -> tuple[str, list[tuple[float, Item]]]:
    """The best items that fit in ``budget`` tokens (never more), as (text, chosen).

    A chat turn that asks a question brings the next turn along when that fits too (the
    answer); near-duplicates of chosen items are skipped. Chat turns are written compactly,
    grouped by date (see ``_Block``); other long memories are shown by their lines that bear
    on the query's terms ``focus`` (``focused``): storage keeps everything, the budget is where
    it is compressed.
    """
    block = _Block(header)
    if header and estimate_tokens(header) > budget:
        return "", []
    chosen: list[tuple[float, Item]] = []
    seen_ids: set[str] = set()
    seen_runs: list[set[tuple[str, ...]]] = []
    shown: set[tuple[str, ...]] = set()  # every run of three terms shown so far
    said = Said()  # every sentence shown so far

    def take(score: float, item: Item) -> bool:
        if item.id in seen_ids or (limit is not None and len(chosen) >= limit):
            return False
        if focus and item.position is None:
            item = item.focused(focus)
        if block.tokens_with(item) > budget:
            return False
        if item.position is None and shown:
            item = item.without_lines_shown(shown)
            if item is None:
                return False
        if item.position is None:
            text = said.novel(item.text)
            if text is None:
                return False
            item = item.with_text(text)
        runs = shingles(terms(item.text))
        if _near_duplicate(runs, seen_runs):
            return False
        block.add(item)
        said.add(block.line(item))  # as shown: a chat turn compacted
        chosen.append((score, item))
        seen_ids.add(item.id)
        seen_runs.append(runs)
        shown.update(runs)
        return True

    for score, item in ranked:
        if limit is not None and len(chosen) >= limit:
            break
        if block.tokens_with(_SMALLEST) > budget:
            break  # full: not even a one-word memory would fit
        if take(score, item) and neighbours and "?" in item.text:
            following = neighbours.get(turn_key(item, 1))
            if following is not None:
                take(score * 0.5, following)
    return (block.text() if chosen else ""), chosen
