"""Memory of a chat conversation: every turn kept as a recallable fact, plus a summary.

Turn contents stay close to verbatim (whitespace squashed, secrets redacted), because recall
is judged on finding a turn's own words again.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from contextrecall.compression import decisions as dec
from contextrecall.compression.digest import SessionDigest
from contextrecall.compression.manual import build_manual_memory
from contextrecall.compression.text import clean, shorten, squash, words
from contextrecall.memory import (
    MANUAL_KINDS,
    ParseReport,
    ProjectStateUpdate,
    SessionMemory,
    Snippet,
)
from contextrecall.redaction import redact
from contextrecall.terms import STOPWORDS
from contextrecall.transcript.events import ChatTurn

TURN_LIMIT = 20_000
TOPIC_COUNT = 8
# A topic is a word a conversation is about: besides the shared stop words, chat's fillers,
# praise and small talk name none, nor do contractions (``words`` keeps the apostrophe).
_NOT_TOPICS = STOPWORDS | frozenset(
    """amazing anything awesome cannot cool definitely even everything feel glad going good great
    haha hey kind know lots made make maybe much nice nothing ought pretty see something sounds
    still sure thank thanks think time totally us want way well wow
    aren't can't couldn't didn't doesn't don't hadn't hasn't haven't he'd he'll he's here's how's
    i'd i'll i'm i've isn't it's let's mustn't shan't she'd she'll she's shouldn't that's there's
    they'd they'll they're they've wasn't we'd we'll we're we've weren't what's when's where's
    who's why's won't wouldn't you'd you'll you're you've""".split()  # noqa: SIM905
)
# Spoken-style dates seen in conversation datasets ("1:56 pm on 8 May, 2023").
_DATE_FORMATS = ("%I:%M %p on %d %B, %Y", "%d %B %Y", "%B %d, %Y", "%Y-%m-%d %H:%M:%S")


def normalize_timestamp(value: str | None) -> str | None:
    """ISO-8601 when ``value`` parses as such, otherwise the value as given."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        pass
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), layout).isoformat()
        except ValueError:
            continue
    return value


def _name(turn: ChatTurn) -> str:
    return turn.speaker or turn.role or "unknown"


def turn_snippet(turn: ChatTurn, position: int | None = None) -> Snippet:
    """One turn as a fact snippet, its content near verbatim."""
    content = squash(redact(turn.content))[:TURN_LIMIT]
    speaker = _name(turn)
    return Snippet(
        category="fact",
        title=clean(f"{speaker}: {content}", 90),
        content=content,
        speaker=turn.speaker or turn.role,
        occurred_at=normalize_timestamp(turn.timestamp),
        importance=1.0 if len(words(content)) >= 4 else 0.5,
        ref=turn.turn_id,
        position=position,
    )


def topics(turns: list[ChatTurn], exclude: set[str]) -> list[str]:
    """The most frequent content words of the conversation."""
    counts: Counter[str] = Counter()
    for turn in turns:
        counts.update(
            w
            for w in words(turn.content)
            if len(w) > 3 and w not in _NOT_TOPICS and w not in exclude
        )
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOPIC_COUNT]]


def build_chat_memory(digest: SessionDigest, report: ParseReport) -> SessionMemory:
    """The memory of a chat JSONL conversation (or of memories saved by hand)."""
    turns = digest.turns
    if any(turn.kind in MANUAL_KINDS for turn in turns):
        return build_manual_memory(turns, report)
    speakers = list(dict.fromkeys(_name(t) for t in turns))
    dates = [normalize_timestamp(t.timestamp) for t in turns if t.timestamp]
    started, ended = (dates[0], dates[-1]) if dates else (None, None)
    people = " and ".join(speakers[:3]) + (" and others" if len(speakers) > 3 else "")
    when = started[:10] if started else None
    title = f"Chat between {people}" if len(speakers) > 1 else f"Chat with {people}"
    if when:
        title += f" ({when})"
    requests = [t for t in turns if t.role == "user"] or turns
    exclude = {w for s in speakers for w in words(s)}
    parts = [f"{len(turns)} turns between {people}" if turns else "Empty conversation"]
    if started:
        parts[0] += f", {started[:10]}" + (
            f" to {ended[:10]}" if ended and ended[:10] != started[:10] else ""
        )
    subjects = topics(turns, exclude)
    if subjects:
        parts.append("Topics: " + ", ".join(subjects))
    if turns:
        parts.append(f'Opens with {_name(turns[0])}: "{shorten(turns[0].content, 140)}"')
        if len(turns) > 1:
            parts.append(f'Ends with {_name(turns[-1])}: "{shorten(turns[-1].content, 140)}"')
    summary = clean(". ".join(parts) + ".", 1200)
    candidates = []
    for order, turn in enumerate(turns):
        for candidate in dec.candidates_in(turn.content, order):
            if candidate.score >= 3.0:
                candidate.text = f"{_name(turn)}: {candidate.text}"
                candidates.append(candidate)
    return SessionMemory(
        title=clean(title, 120),
        summary=summary,
        source_format="chat",
        decisions=dec.select(candidates, 5),
        snippets=[turn_snippet(t, i) for i, t in enumerate(turns)],
        state=ProjectStateUpdate(),
        first_request=clean(requests[0].content, 2000) if requests else None,
        last_request=clean(requests[-1].content, 2000) if requests else None,
        started_at=started,
        ended_at=ended,
        tags=["chat"],
        report=report,
    )
