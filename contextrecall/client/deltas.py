"""What is new in a transcript since the last save, redacted, in slices of a few megabytes.

Runs inside the hook, so it stays on the standard library plus the redactor. Only complete
lines are taken (a line still being written is left for the next save; a last line without
its newline counts as complete when it is a whole JSON object), each line's strings
are redacted, and large deltas are split at line boundaries (``contextrecall.jobs`` packs
each slice into a save job).
"""

from __future__ import annotations

import json

from contextrecall.ids import sha256_hex
from contextrecall.jobs import TAIL_FIELD
from contextrecall.redaction import map_strings, redact

TYPE_CHECKING = False  # importing typing costs the hook ~3 ms; annotations are strings
if TYPE_CHECKING:
    from collections.abc import Iterator
    from os import PathLike
    from typing import Any

MAX_JOB_BYTES = 4 * 1024 * 1024  # a delta larger than this is split into several jobs
MAX_LINE_BYTES = 32 * 1024 * 1024  # a longer line is dropped (counted), never half-stored
TAIL_SCAN_BYTES = 256 * 1024  # of the transcript's end, looked at for the last answer


class Delta:
    """A run of complete transcript lines between two byte offsets, already redacted.

    A plain class: ``dataclasses`` imports ``inspect``, too slow for the hook's start-up.
    """

    __slots__ = ("dropped_lines", "end", "start", "text")

    def __init__(self, start: int, end: int, text: bytes, dropped_lines: int = 0) -> None:
        self.start, self.end, self.text, self.dropped_lines = start, end, text, dropped_lines

    @property
    def sha256(self) -> str:
        return sha256_hex(self.text)


def redact_value(value: Any) -> Any:
    """Redact every string inside a parsed JSON value."""
    return map_strings(value, redact)


def redact_line(line: bytes) -> bytes:
    """One transcript line with its secrets redacted; JSON stays JSON."""
    text = line.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return redact(text).encode("utf-8")
    return json.dumps(redact_value(parsed), ensure_ascii=False, separators=(",", ":")).encode()


def tail_line(message: str, timestamp: str) -> bytes:
    """The provisional transcript line of an answer the transcript does not hold yet,
    redacted like every line."""
    line = {
        "type": "assistant",
        TAIL_FIELD: True,
        "timestamp": timestamp,
        "message": {"role": "assistant", "content": [{"type": "text", "text": message}]},
    }
    return redact_line(json.dumps(line, ensure_ascii=False).encode())


def holds_answer(path: str | PathLike[str], message: str) -> bool:
    """Whether the end of the transcript at ``path`` holds ``message`` as an answer's text
    (compared as JSON text: the first and last lines of it, which no escaping tells apart)."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return True
    with open(path, "rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - TAIL_SCAN_BYTES))
        end = handle.read()
    wanted = {json.dumps(line.strip(), ensure_ascii=False)[1:-1] for line in (lines[0], lines[-1])}
    raw = {json.dumps(line.strip())[1:-1] for line in (lines[0], lines[-1])}
    return all(w.encode() in end for w in wanted) or all(r.encode() in end for r in raw)


def _whole_object(line: bytes) -> bool:
    """Whether ``line`` (with no newline after it) is one whole JSON object: no prefix of a
    line being written parses as one, so a transcript that ends without a newline (a file
    copied or imported whole) keeps its last line."""
    if not line.strip().startswith(b"{"):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def read_deltas(
    path: str | PathLike[str], offset: int, max_job_bytes: int = MAX_JOB_BYTES
) -> Iterator[Delta]:
    """Complete lines of ``path`` from ``offset`` on, redacted, in chunks of about
    ``max_job_bytes``. A file shorter than ``offset`` (rewritten) is read from the start."""
    with open(path, "rb") as handle:
        size = handle.seek(0, 2)
        if offset > size:
            offset = 0
        handle.seek(offset)
        position = offset
        chunk: list[bytes] = []
        chunk_start, chunk_size, dropped = position, 0, 0
        while True:
            line = handle.readline(MAX_LINE_BYTES + 1)
            if not line.endswith(b"\n"):
                if len(line) > MAX_LINE_BYTES:  # an enormous line: skip to its end
                    position += len(line)
                    while line and not line.endswith(b"\n"):
                        line = handle.readline(MAX_LINE_BYTES)
                        position += len(line)
                    dropped += 1
                    continue
                if not _whole_object(line):
                    break  # end of file, or a line still being written
                position += len(line)  # a file saved without its last newline ends here
                chunk.append(redact_line(line.strip()))
                break
            position += len(line)
            stripped = line.strip()
            if stripped:
                redacted = redact_line(stripped)
                chunk.append(redacted)
                chunk_size += len(redacted) + 1
            if chunk_size >= max_job_bytes:
                yield Delta(chunk_start, position, b"\n".join(chunk) + b"\n", dropped)
                chunk, chunk_start, chunk_size, dropped = [], position, 0, 0
        if chunk or dropped:
            yield Delta(chunk_start, position, b"\n".join(chunk) + b"\n" if chunk else b"", dropped)
