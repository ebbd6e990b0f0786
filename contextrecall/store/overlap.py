"""What of a delta a session does not hold yet: its lines, each stored once.

A transcript's lines are unique (each carries its own id and time), so a line the session
already holds is the same line sent again: by a delta overlapping an earlier one (the hook
killed between its spool and offset writes), by a transcript truncated or rewritten and read
again from the start, or by deltas arriving out of order. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

from contextrecall.jobs import TAIL_MARK


def line_digests(texts: Iterable[bytes]) -> set[bytes]:
    """Digests of the non-blank lines of ``texts``."""
    return {digest for text in texts for _, digest in _lines(text)}


def lines_not_held(text: bytes, held: set[bytes]) -> bytes:
    """``text`` without the lines whose digest is in ``held`` (a line twice in ``text`` itself
    is kept once too); whole lines, in their order."""
    kept = []
    seen = set(held)
    for line, digest in _lines(text):
        if digest not in seen:
            seen.add(digest)
            kept.append(line)
    return b"".join(kept)


def settled(pieces: list[bytes]) -> bytes:
    """A session's stored pieces (in transcript order) joined, with the provisional last
    answers a Stop hook sent (``TAIL_MARK`` lines): only the last piece's counts, and only
    while no other line holds its text (the transcript's own line, arrived since)."""
    kept = []
    for index, piece in enumerate(pieces):
        if TAIL_MARK not in piece:
            kept.append(piece)
            continue
        lines = piece.splitlines(keepends=True)
        real = b"".join(line for line in lines if TAIL_MARK not in line)
        if index == len(pieces) - 1:
            others = b"".join(kept) + real
            real += b"".join(
                line for line in lines if TAIL_MARK in line and not _answered(line, others)
            )
        kept.append(real)
    return b"".join(kept)


def _answered(tail: bytes, others: bytes) -> bool:
    """Whether ``others`` hold the text of the provisional answer ``tail``."""
    try:
        text = json.loads(tail)["message"]["content"][0]["text"]
    except (ValueError, LookupError, TypeError):
        return True  # unreadable: left out
    return json.dumps(text, ensure_ascii=False)[1:-1].encode() in others


def line_digest(line: bytes) -> bytes:
    """The digest a line (without its ending) is known by."""
    return hashlib.blake2b(line, digest_size=16).digest()


def _lines(text: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Each non-blank line of ``text`` (with its line ending) and the digest of its bytes."""
    for line in text.splitlines(keepends=True):
        if line.strip():
            yield line, line_digest(line.rstrip(b"\r\n"))
