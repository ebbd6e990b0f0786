"""How the recall index writes memory: compact records, packed postings and order keys, the
layout's version (``FORMAT``), what one write adds (``Changes``) and a queued save's line.

Pure and on the standard library: the worker encodes, the hook decodes.
"""

from __future__ import annotations

import json
import zlib
from array import array

from contextrecall.recall.ranking import EPOCH, MICROSECOND, Item, moment, scored_terms

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

FORMAT = "3"  # how the index is laid out (3: a memory's terms as one list); another is rebuilt

INDEX_KINDS = {
    "session": "session",
    "decision": "decision",
    "snippet": "snippet",
    "fact": "snippet",
}


def kind_of(item: Item) -> str:
    """The index's kind of an item: session, decision or snippet (chat facts included)."""
    return INDEX_KINDS[item.kind]


def turn_field(session: str | None, part: int | None, position: int) -> str:
    return f"{session or ''}\x1f{'' if part is None else part}\x1f{position}"


def encode(item: Item) -> str:
    """An item as one compact record: a JSON list on one line; a title that only repeats the
    start of the text is kept as its length, the time as microseconds."""
    when: str | bool | None = item.when
    if item.created_at and when == item.created_at.isoformat():
        when = True
    fields = [
        item.kind,
        item.id,
        item.text,
        _title_code(item),
        list(item.tags),
        item.relevance,
        item.usage,
        moment(item) if item.created_at else None,
        item.speaker,
        when,
        item.session,
        item.part,
        item.position,
        " ".join(scored_terms(item)),
    ]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def decode(record: str | bytes) -> Item:
    """The item ``encode`` wrote."""
    (kind, id, text, title, tags, relevance, usage, created, speaker, when, session, part,
     position, scored) = json.loads(record)  # fmt: skip
    created_at = EPOCH + created * MICROSECOND if created is not None else None
    item = Item(
        kind,
        id,
        text,
        title=_title(title, text, speaker),
        tags=tags,
        relevance=relevance,
        usage=usage,
        created_at=created_at,
        speaker=speaker,
        when=created_at.isoformat() if when is True and created_at else when,
        session=session,
        part=part,
        position=position,
    )
    item.scored = scored.split()
    return item


ELLIPSIS = "…"


def _title_code(item: Item) -> str | int:
    """A title as the record keeps it: n for the text's first n characters, -n for a chat
    turn's "Speaker: " and those n characters and an ellipsis, else the title itself."""
    title, text = item.title, item.text
    if title and text.startswith(title):
        return len(title)
    lead = f"{item.speaker}: " if item.speaker else None
    if lead and title.startswith(lead) and title.endswith(ELLIPSIS):
        size = len(title) - len(lead) - 1
        if size > 0 and text.startswith(title[len(lead) : -1]):
            return -size
    return title


def _title(code: str | int, text: str, speaker: str | None) -> str:
    if not isinstance(code, int):
        return code
    if code >= 0:
        return text[:code]
    return f"{speaker}: {text[:-code]}{ELLIPSIS}"


def deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def inflate(data: bytes) -> bytes:
    return zlib.decompress(data, -15)


ORDER_BYTES = 12


def order_key(item: Item) -> bytes:
    """How an item sorts among candidates of equal score (``ranking.candidate_rank``), in
    twelve bytes that compare as it does, the best least: newest first (the time, negated,
    offset so its bytes order as its value), then the first four bytes of its id, negated
    (the greater id first)."""
    newest_first = (2**63 - 1 - moment(item)).to_bytes(8, "big")
    return newest_first + bytes(255 - b for b in item.id.encode()[:4].ljust(4, b"\0"))


def order_place(item: Item) -> str:
    """Where an item stands in ``candidate_rank`` among equals, as the index's meta keeps the
    greatest of a kind: its time in microseconds and its id."""
    return f"{moment(item)} {item.id}"


def ranks_above(item: Item, place: str | None) -> bool:
    """Whether ``item`` ranks above the item at ``place`` among equals (always, with none)."""
    if place is None:
        return True
    at, _, id = place.partition(" ")
    return (moment(item), item.id) > (int(at), id)


def pack(docnos: list[int]) -> bytes:
    return array("I", docnos).tobytes()


def unpack(data: bytes) -> list[int]:
    found = array("I")
    found.frombytes(data)
    return found.tolist()


class Changes:
    """What one sync or build adds to an index, gathered before it is written at once."""

    def __init__(self) -> None:
        self.records: dict[int, str] = {}  # docno: ``encode``
        self.ids: dict[str, int] = {}
        self.postings: dict[tuple[str, str], list[int]] = {}
        self.dead: dict[str, list[int]] = {}
        self.odd: dict[str, list[int]] = {}
        self.newest: dict[str, dict[int, tuple[float, str]]] = {}  # docno: (time, id)
        self.dropped_newest: dict[str, list[tuple[int, str]]] = {}  # (docno, id)
        self.turns: dict[str, int] = {}
        self.order_keys: dict[int, bytes] = {}  # docno: ``order_key``
        self.frequencies: dict[str, int] = {}
        self.meta: dict[str, str] = {}


def encode_save(generation: int | None, ids: Mapping[str, Sequence[str]]) -> str:
    """A save as the "queue" and "pending" lists keep it: one line of JSON."""
    return json.dumps([generation, {table: list(i) for table, i in ids.items() if i}])
