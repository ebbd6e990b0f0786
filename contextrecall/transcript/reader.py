"""Read a JSONL transcript from a byte offset, one complete line at a time.

The file is streamed in binary mode: each line is decoded once and dropped. Only complete
lines are consumed; a last line without a newline that does not parse yet is left for the
next read, and ``ParseReport.end_offset`` says where that read should start.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from contextrecall.memory import ParseReport

MAX_LINE_BYTES = 64 * 1024 * 1024  # longer lines are skipped without being held in memory

_BLANK = object()
_INVALID = object()


class TranscriptError(ValueError):
    """The path is not a readable transcript (missing, a directory, or no parsable line)."""


def open_transcript(path: str | Path | BinaryIO):
    """Open ``path`` for binary reading, turning OS errors into a one-line TranscriptError.

    An already open binary stream (the worker's in-memory delta) is used as it is.
    """
    if hasattr(path, "read"):
        return path
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise TranscriptError(f"no such transcript: {path}") from None
    except IsADirectoryError:
        raise TranscriptError(f"{path} is a directory, not a transcript") from None
    except OSError as exc:
        raise TranscriptError(f"cannot read {path}: {exc.strerror or exc}") from None


def iter_objects(
    path: str | Path | BinaryIO,
    report: ParseReport,
    offset: int = 0,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[dict[str, Any]]:
    """Yield each JSON object line of ``path`` from ``offset``, counting what is skipped."""
    with open_transcript(path) as stream:
        report.end_offset = offset
        if offset:
            if offset > stream.seek(0, 2):
                report.skip("offset-past-end")  # the file was truncated or replaced
                return
            stream.seek(offset)
        position = offset
        while True:
            line = stream.readline(max_line_bytes)
            if not line:
                break
            complete = line.endswith(b"\n")
            if not complete and len(line) >= max_line_bytes:
                length = _discard_rest_of_line(stream, len(line), max_line_bytes)
                if length is None:  # the oversized line is still being written
                    report.skip("partial-line")
                    break
                position += length
                _consumed(report, position, offset)
                report.skip("line-too-long")
                continue
            value = _decode(line, report)
            if not complete and value is _INVALID:
                report.skip("partial-line")  # left for the next read
                break
            position += len(line)
            if value is _BLANK:
                report.end_offset = position
                report.bytes_read = position - offset
                continue
            _consumed(report, position, offset)
            if value is _INVALID:
                report.skip("invalid-json")
            elif not isinstance(value, dict):
                report.skip("not-an-object")
            else:
                yield value


def _consumed(report: ParseReport, position: int, offset: int) -> None:
    report.lines += 1
    report.end_offset = position
    report.bytes_read = position - offset


def _discard_rest_of_line(stream: BinaryIO, length: int, chunk: int) -> int | None:
    """Skip to the end of an oversized line; its total length, or None if it has no end."""
    while True:
        more = stream.readline(chunk)
        if not more:
            return None
        length += len(more)
        if more.endswith(b"\n"):
            return length


def _decode(raw: bytes, report: ParseReport) -> Any:
    raw = raw.strip()
    if not raw:
        return _BLANK
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        report.skip("invalid-utf8")
        try:
            return json.loads(raw.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            return _INVALID
    except (ValueError, RecursionError):
        return _INVALID
