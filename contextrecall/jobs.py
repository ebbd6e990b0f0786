"""The save job: the one wire format between the hook (or ``recall save``) and the worker.

A job is a self-contained JSON object: which project, machine and session a run of
transcript lines belongs to, and those lines, zlib-compressed and (with a key ring) sealed
with AES-256-GCM. This module builds, validates, decodes and describes it; everything else
reads it through ``SaveJob`` (a ``TypedDict`` declared for type checkers only, so the hook,
which builds jobs, never imports ``typing``).
"""

from __future__ import annotations

import binascii
import time
import zlib

from contextrecall.ids import random_uuid, sha256_hex

# A Stop hook often runs before Claude Code has written the turn's last answer; the hook is
# told it (``last_assistant_message``) and sends it as a provisional line with this field,
# which the store uses until the transcript's own line arrives (``store.overlap``).
TAIL_FIELD = "recallTail"
TAIL_MARK = b'"recallTail":true'  # how the field reads in a delta's (compact) JSON lines

TYPE_CHECKING = False  # importing typing costs the hook ~3 ms; annotations are strings
if TYPE_CHECKING:
    from typing import Any, NotRequired, Protocol, TypedDict

    from contextrecall.crypto import KeyRing

    class ProjectRef(TypedDict):
        identity: str  # normalized git remote, top-level path, or "name:<name>"
        name: NotRequired[str]
        git_remote: NotRequired[str | None]
        root_path: NotRequired[str | None]

    class MachineRef(TypedDict):
        fingerprint: str
        hostname: NotRequired[str]
        platform: NotRequired[str | None]

    class SessionRef(TypedDict):
        external_id: str
        format: str  # "claude" or "chat"
        transcript_path: NotRequired[str | None]

    class DeltaRef(TypedDict):
        start: int  # byte offsets of the slice in the transcript
        end: int
        sha256: str  # of the redacted slice
        encoding: str  # PLAIN or SEALED
        data: str
        dropped_lines: NotRequired[int]

    class SaveJob(TypedDict):
        v: int
        job_id: str
        event: str
        created_at: str
        project: ProjectRef
        machine: MachineRef | None
        session: SessionRef
        delta: DeltaRef
        store: NotRequired[str]  # the id of the store it is for, stamped when sent

    class Slice(Protocol):
        """A run of complete, redacted transcript lines (``client.deltas.Delta``)."""

        start: int
        end: int
        text: bytes
        dropped_lines: int

        @property
        def sha256(self) -> str: ...


SAVE_TASK = "recall.save_delta"
USAGE_TASK = "recall.record_usage"  # args: a list of snippet ids recall showed
JOB_VERSION = 1
# In RECALL_HOME: failures a worker could not record in the store, and jobs it let go for
# another worker, and why; `recall status` reads both.
FAILED_JOBS, LEFT_JOBS = "failed-jobs.jsonl", "left-jobs.jsonl"
PLAIN = "zlib+base64"
SEALED = "aesgcm+zlib+base64"  # a delta encrypted by the key ring (see crypto.py)
FORMATS = ("claude", "codex", "gemini", "chat")


class PoisonJob(ValueError):
    """A job that can never succeed (corrupt or malformed); it is recorded, not retried."""


def build_job(
    *,
    project: ProjectRef,
    machine: MachineRef | None,
    session_external_id: str,
    source_format: str,
    delta: Slice,
    event: str,
    transcript_path: str | None = None,
    ring: KeyRing | None = None,
) -> SaveJob:
    """A self-contained, JSON-serializable save job.

    With a key ring the delta travels sealed (AES-256-GCM, bound to the project, session and
    byte range), so the spool and the broker only ever hold ciphertext.
    """
    packed = zlib.compress(delta.text, 6)
    encoding = PLAIN
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


_REQUIRED = (
    (("job_id",), str),
    (("project", "identity"), str),
    (("session", "external_id"), str),
    (("delta", "sha256"), str),
    (("delta", "data"), str),
    (("delta", "start"), int),
    (("delta", "end"), int),
)


def validate_job(job: Any) -> SaveJob:
    """``job`` if it has every field a save needs, of the right type; PoisonJob otherwise.

    A missing ``session.format`` reads as "claude" (jobs from before the field existed).
    """
    if not isinstance(job, dict):
        raise PoisonJob(f"job is a {type(job).__name__}, not an object")
    if job.get("v") != JOB_VERSION:
        raise PoisonJob(f"unsupported job version {job.get('v')!r}")
    for path, kind in _REQUIRED:
        value: Any = job
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if value in (None, ""):
            raise PoisonJob(f"job has no {'.'.join(path)}")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise PoisonJob(f"job's {'.'.join(path)} is not a {kind.__name__}")
    if job.get("machine") is not None and not isinstance(job["machine"], dict):
        raise PoisonJob("job's machine is not an object")
    fmt = job["session"].get("format") or "claude"
    if fmt not in FORMATS:
        raise PoisonJob(f"unknown transcript format {fmt!r}")
    job["session"]["format"] = fmt
    return job


def job_argsrepr(job: Any) -> str:
    """What monitors (Flower) show for a job: ids and sizes, never transcript text."""
    if not isinstance(job, dict):
        return repr(type(job))
    delta = job.get("delta") or {}
    session = (job.get("session") or {}).get("external_id")
    project = (job.get("project") or {}).get("name")
    try:
        size = int(delta.get("end", 0)) - int(delta.get("start", 0))
    except (TypeError, ValueError):
        size = -1
    return f"(project={project!r}, session={session!r}, bytes={size}, job={job.get('job_id')!r})"


def job_associated_data(
    project: ProjectRef, session_external_id: str, start: int, end: int
) -> bytes:
    """What a sealed delta is bound to: its project, session and byte range."""
    from contextrecall.crypto import associated_data

    kind = f"job:{int(start)}-{int(end)}"
    return associated_data(str(project.get("identity")), str(session_external_id), kind)


def decode_delta_text(job: SaveJob, ring: KeyRing | None = None) -> bytes:
    """The delta bytes of a job; ValueError when the payload is corrupt, TamperedError when
    a sealed one fails authentication (altered, or moved to another project, session or
    range)."""
    delta = job["delta"]
    encoding = delta.get("encoding")
    if encoding not in {PLAIN, SEALED}:
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
