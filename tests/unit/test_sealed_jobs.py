"""Save jobs travel sealed: the spool and the broker hold ciphertext bound to its place."""

from __future__ import annotations

import binascii
import copy
import json

import cryptography.hazmat.primitives.ciphers.aead as public_aead
import pytest

from contextrecall import crypto
from contextrecall.client.deltas import Delta
from contextrecall.crypto import KeyRing, TamperedError, generate_key
from contextrecall.jobs import SEALED, build_job, decode_delta_text

SECRET_FREE_TEXT = b'{"type":"user","message":{"content":"the zanzibar deploy plan"}}\n'
RING = KeyRing(generate_key())


def _job(ring: KeyRing | None = RING, start: int = 0, session: str = "s1") -> dict:
    return build_job(
        project={"name": "p", "identity": "git:example.com/p"},
        machine=None,
        session_external_id=session,
        source_format="claude",
        delta=Delta(start, start + len(SECRET_FREE_TEXT), SECRET_FREE_TEXT),
        event="Stop",
        ring=ring,
    )


def test_the_hook_uses_the_same_aes_gcm_as_the_public_api():
    assert crypto.AESGCM is public_aead.AESGCM


def test_a_sealed_job_holds_no_plaintext_and_opens_with_the_ring():
    job = _job()
    assert job["delta"]["encoding"] == SEALED
    raw = json.dumps(job).encode()
    assert b"zanzibar" not in raw
    assert b"zanzibar" not in binascii.a2b_base64(job["delta"]["data"])
    assert decode_delta_text(job, RING) == SECRET_FREE_TEXT


def test_an_unsealed_job_still_opens_without_a_ring():
    assert decode_delta_text(_job(ring=None)) == SECRET_FREE_TEXT


def test_a_sealed_job_without_a_ring_is_a_clear_error():
    with pytest.raises(ValueError, match="no key ring"):
        decode_delta_text(_job())


@pytest.mark.parametrize(
    "move",
    [
        lambda job: job["project"].update(identity="git:example.com/other"),
        lambda job: job["session"].update(external_id="s2"),
        lambda job: job["delta"].update(start=1, end=job["delta"]["end"] + 1),
    ],
    ids=["another project", "another session", "another byte range"],
)
def test_a_sealed_delta_moved_to_another_place_is_refused(move):
    job = copy.deepcopy(_job())
    move(job)
    with pytest.raises(TamperedError):
        decode_delta_text(job, RING)


def test_payloads_swapped_between_two_sessions_are_both_refused():
    first, second = _job(session="s1"), _job(session="s2")
    first["delta"]["data"], second["delta"]["data"] = (
        second["delta"]["data"],
        first["delta"]["data"],
    )
    for job in (first, second):
        with pytest.raises(TamperedError):
            decode_delta_text(job, RING)


def test_an_altered_ciphertext_is_refused():
    job = _job()
    sealed = bytearray(binascii.a2b_base64(job["delta"]["data"]))
    sealed[-1] ^= 1
    job["delta"]["data"] = binascii.b2a_base64(bytes(sealed), newline=False).decode()
    with pytest.raises(TamperedError):
        decode_delta_text(job, RING)


def test_a_job_sealed_under_a_key_the_worker_lacks_names_that_key():
    other = KeyRing(generate_key())
    with pytest.raises(TamperedError, match=other.key_ids[0]):
        decode_delta_text(_job(ring=other), RING)


def test_a_rotated_ring_still_opens_jobs_sealed_under_the_old_key():
    old_key = generate_key()
    job = _job(ring=KeyRing(old_key))
    assert decode_delta_text(job, KeyRing(f"{generate_key()},{old_key}")) == SECRET_FREE_TEXT
