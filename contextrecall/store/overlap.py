"""What of a delta a session does not hold yet: its lines, each stored once.

A transcript's lines are unique (each carries its own id and time), so a line the session
already holds is the same line sent again: by a delta overlapping an earlier one (the hook
killed between its spool and offset writes), by a transcript truncated or rewritten and read
again from the start, or by deltas arriving out of order. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator


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


def _lines(text: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Each non-blank line of ``text`` (with its line ending) and the digest of its bytes."""
    for line in text.splitlines(keepends=True):
        if line.strip():
            yield line, hashlib.blake2b(line.rstrip(b"\r\n"), digest_size=16).digest()
