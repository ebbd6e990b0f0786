"""The save job's pure parts: validation of what arrives, and compression of raw slices."""

from __future__ import annotations

import io
import json

import pytest

from contextrecall.client.deltas import Delta
from contextrecall.jobs import PoisonJob, build_job, decode_delta_text, validate_job
from contextrecall.store.save_job import compress_bytes
from contextrecall.transcript import iter_events


def job(text: bytes = b'{"type":"user","message":{"content":"hello"}}\n') -> dict:
    return build_job(
        project={"name": "p", "identity": "name:p"},
        machine=None,
        session_external_id="s",
        source_format="claude",
        delta=Delta(0, len(text), text),
        event="Stop",
    )


def test_a_well_formed_job_round_trips():
    good = job()
    assert validate_job(good) is good
    assert decode_delta_text(good).startswith(b'{"type":"user"')


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda j: "not a dict", "not an object"),
        (lambda j: {**j, "v": 2}, "unsupported job version"),
        (lambda j: {**j, "project": {}}, "project.identity"),
        (lambda j: {**j, "delta": {**j["delta"], "data": ""}}, "delta.data"),
        (lambda j: {**j, "session": {**j["session"], "format": "xml"}}, "unknown transcript"),
    ],
)
def test_malformed_jobs_are_poison(change, reason):
    with pytest.raises(PoisonJob, match=reason):
        validate_job(change(job()))


def test_a_tampered_payload_is_refused():
    bad = job()
    bad["delta"]["sha256"] = "0" * 64
    with pytest.raises(ValueError, match="does not match its hash"):
        decode_delta_text(bad)


def test_a_slice_of_only_bookkeeping_lines_yields_an_empty_memory_not_an_error():
    text = json.dumps({"type": "progress", "data": {"type": "hook_progress"}}).encode() + b"\n"
    memory = compress_bytes(text, "claude")
    assert memory.decisions == [] and memory.first_request is None


def test_compress_bytes_matches_reading_the_same_lines_from_a_file(tmp_path):
    lines = b"".join(
        json.dumps({"type": "user", "message": {"role": "user", "content": f"task {i}"}}).encode()
        + b"\n"
        for i in range(3)
    )
    path = tmp_path / "t.jsonl"
    path.write_bytes(lines)
    from contextrecall.compression import compress_file

    in_memory, on_disk = compress_bytes(lines, "claude"), compress_file(path, fmt="claude")
    assert in_memory.first_request == on_disk.first_request == "task 0"
    assert in_memory.last_request == on_disk.last_request == "task 2"


def test_a_stream_needs_an_explicit_format():
    with pytest.raises(ValueError, match="format"):
        list(iter_events(io.BytesIO(b"{}\n"), "auto"))


def test_monitors_see_ids_and_sizes_never_transcript_text():
    from contextrecall.jobs import job_argsrepr

    shown = job_argsrepr(job(b'{"type":"user","message":{"content":"my private plan"}}\n'))
    assert "private plan" not in shown
    assert "session='s'" in shown and "bytes=" in shown
