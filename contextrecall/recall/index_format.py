"""How memories are written in the recall index: compact records and packed postings.

Pure and on the standard library: the worker encodes, the hook decodes.
"""

from __future__ import annotations

import json
import zlib
from array import array
from datetime import datetime

from contextrecall.recall.ranking import Item

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


def encode(item: Item) -> bytes:
    """An item as one compressed record."""
    fields = [
        item.kind,
        item.id,
        item.text,
        item.title,
        list(item.tags),
        item.relevance,
        item.usage,
        item.created_at.isoformat() if item.created_at else None,
        item.speaker,
        item.when,
        item.session,
        item.part,
        item.position,
    ]
    return zlib.compress(json.dumps(fields, separators=(",", ":")).encode(), 6)


def decode(record: bytes) -> Item:
    """The item ``encode`` wrote."""
    (kind, id, text, title, tags, relevance, usage, created, speaker, when, session, part,
     position) = json.loads(zlib.decompress(record))  # fmt: skip
    return Item(
        kind,
        id,
        text,
        title=title,
        tags=tags,
        relevance=relevance,
        usage=usage,
        created_at=datetime.fromisoformat(created) if created else None,
        speaker=speaker,
        when=when,
        session=session,
        part=part,
        position=position,
    )


def pack(docnos: list[int]) -> bytes:
    return array("I", docnos).tobytes()


def unpack(data: bytes) -> list[int]:
    found = array("I")
    found.frombytes(data)
    return found.tolist()
