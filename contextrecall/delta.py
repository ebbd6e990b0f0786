"""What is new in a transcript since the last save, redacted and packed into save jobs.

Runs inside the hook, so it stays on the standard library plus the redactor. Only complete
lines are taken (a line still being written is left for the next save), each line's strings
are redacted, and large deltas are split at line boundaries into several jobs.
"""

from __future__ import annotations

import binascii
import json
import time
import zlib

from contextrecall.ids import random_uuid, sha256_hex
from contextrecall.redaction import redact

TYPE_CHECKING = False  # importing typing costs the hook ~3 ms; annotations are strings
if TYPE_CHECKING:
    from collections.abc import Iterator
    from os import PathLike
    from typing import Any

    from contextrecall.crypto import KeyRing

JOB_VERSION = 1
MAX_JOB_BYTES = 4 * 1024 * 1024  # a delta larger than this is split into several jobs
MAX_LINE_BYTES = 32 * 1024 * 1024  # a longer line is dropped (counted), never half-stored
SAVE_TASK = "recall.save_delta"
SEALED = "aesgcm+zlib+base64"  # a delta encrypted by the key ring (see crypto.py)


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
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    return value


def redact_line(line: bytes) -> bytes:
    """One transcript line with its secrets redacted; JSON stays JSON."""
    text = line.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return redact(text).encode("utf-8")
    return json.dumps(redact_value(parsed), ensure_ascii=False, separators=(",", ":")).encode()


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
                break  # end of file, or a line still being written
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


def build_job(
    *,
    project: dict[str, Any],
    machine: dict[str, Any] | None,
    session_external_id: str,
    source_format: str,
    delta: Delta,
    event: str,
    transcript_path: str | None = None,
    ring: KeyRing | None = None,
) -> dict[str, Any]:
    """A self-contained, JSON-serializable save job.

    With a key ring the delta travels sealed (AES-256-GCM, bound to the project, session and
    byte range), so the spool and the broker only ever hold ciphertext.
    """
    packed = zlib.compress(delta.text, 6)
    encoding = "zlib+base64"
    if ring is not None:
        bound = job_associated_data(project, session_external_id, delta.start, delta.end)
        packed = ring.encrypt(packed, bound)
        encoding = SEALED
    return {
        "v": JOB_VERSION,
        "job_id": random_uuid(),
        "event": event,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "project": project,
        "machine": machine,
        "session": {
            "external_id": session_external_id,
            "format": source_format,
            "transcript_path": transcript_path,
        },
        "delta": {
            "start": delta.start,
            "end": delta.end,
            "sha256": delta.sha256,
            "encoding": encoding,
            "data": binascii.b2a_base64(packed, newline=False).decode(),
            "dropped_lines": delta.dropped_lines,
        },
    }


def job_argsrepr(job: dict[str, Any]) -> str:
    """What monitors (Flower) show for a job: ids and sizes, never transcript text."""
    delta = job.get("delta") or {}
    session = (job.get("session") or {}).get("external_id")
    project = (job.get("project") or {}).get("name")
    size = int(delta.get("end", 0)) - int(delta.get("start", 0))
    return f"(project={project!r}, session={session!r}, bytes={size}, job={job.get('job_id')!r})"


def job_associated_data(
    project: dict[str, Any], session_external_id: str, start: int, end: int
) -> bytes:
    """What a sealed delta is bound to: its project, session and byte range."""
    from contextrecall.crypto import associated_data

    kind = f"job:{int(start)}-{int(end)}"
    return associated_data(str(project.get("identity")), str(session_external_id), kind)


def decode_delta_text(job: dict[str, Any], ring: KeyRing | None = None) -> bytes:
    """The delta bytes of a job; ValueError when the payload is corrupt, TamperedError when
    a sealed one fails authentication (altered, or moved to another project, session or
    range)."""
    delta = job["delta"]
    encoding = delta.get("encoding")
    if encoding not in {"zlib+base64", SEALED}:
        raise ValueError(f"unknown delta encoding {encoding!r}")
    try:
        packed = binascii.a2b_base64(delta["data"], strict_mode=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"corrupt delta payload: {exc}") from exc
    if encoding == SEALED:
        if ring is None:
            raise ValueError("sealed delta and no key ring to open it")
        bound = job_associated_data(
            job["project"], job["session"]["external_id"], delta["start"], delta["end"]
        )
        packed = ring.decrypt(packed, bound)
    try:
        text = zlib.decompress(packed)
    except zlib.error as exc:
        raise ValueError(f"corrupt delta payload: {exc}") from exc
    if sha256_hex(text) != delta.get("sha256"):
        raise ValueError("delta payload does not match its hash")
    return text
