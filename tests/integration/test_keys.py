"""Key rotation on both backends: every stored delta moves to the newest key and stays
readable; a tampered row is reported, never re-sealed."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import select, update

from contextrecall.client.deltas import Delta
from contextrecall.crypto import KeyRing, associated_data, generate_key
from contextrecall.db import session_scope
from contextrecall.jobs import build_job
from contextrecall.maintenance.keys import rotate, rows_per_key
from contextrecall.models import SavedDelta
from contextrecall.store.save_job import save_job
from tests.integration.workers import settings_env

OLD, NEW = generate_key(), generate_key()


def _save(settings, ring: KeyRing, session: str, start: int, text: bytes) -> None:
    job = build_job(
        project={"name": "p", "identity": "name:p"},
        machine=None,
        session_external_id=session,
        source_format="chat",
        delta=Delta(start, start + len(text), text),
        event="save",
        ring=ring,
    )
    with session_scope(settings) as db:
        save_job(db, job, ring)


def _line(text: str) -> bytes:
    return b'{"role": "user", "speaker": "Ana", "content": "' + text.encode() + b'"}\n'


def _stored(settings) -> list[tuple[str, str, str | None, str, bytes]]:
    with session_scope(settings) as db:
        return [
            tuple(row)
            for row in db.execute(
                select(
                    SavedDelta.id,
                    SavedDelta.session_id,
                    SavedDelta.project_id,
                    SavedDelta.key_id,
                    SavedDelta.payload,
                ).order_by(SavedDelta.id)
            )
        ]


def test_rotation_moves_every_record_to_the_newest_key_and_all_stay_readable(backend):
    old_ring = KeyRing(OLD)
    for i in range(7):
        _save(backend, old_ring, f"s{i % 3}", 100 * i, _line(f"fact number {i} about rotation"))
    assert rows_per_key(backend) == {old_ring.key_ids[0]: 7}

    ring = KeyRing(f"{NEW},{OLD}")
    report = rotate(backend, ring, batch=3)  # several batches
    assert report.rewritten == 7 and not report.tampered
    assert rows_per_key(backend) == {ring.key_ids[0]: 7}
    assert rotate(backend, ring).rewritten == 0  # nothing left: a re-run changes nothing

    new_only = KeyRing(NEW)  # the old key can go now
    for _, session_id, project_id, _, payload in _stored(backend):
        assert b"fact number" in new_only.decrypt(
            payload, associated_data(project_id, session_id, "delta")
        )
    # A later save re-reads the session's earlier deltas: it works with the new key alone.
    _save(backend, new_only, "s0", 5000, _line("after rotation"))


def test_a_tampered_record_is_reported_and_left_as_it_is(backend):
    old_ring = KeyRing(OLD)
    for i in range(3):
        _save(backend, old_ring, "s", 100 * i, _line(f"fact {i}"))
    victim, *_ = _stored(backend)
    altered = bytes(victim[4][:-1]) + bytes([victim[4][-1] ^ 1])
    with session_scope(backend) as db:
        db.execute(update(SavedDelta).where(SavedDelta.id == victim[0]).values(payload=altered))

    report = rotate(backend, KeyRing(f"{NEW},{OLD}"))
    assert report.tampered == [victim[0]] and report.rewritten == 2
    row = next(r for r in _stored(backend) if r[0] == victim[0])
    assert row[3] == old_ring.key_ids[0] and bytes(row[4]) == altered

    env = {**settings_env(backend), "RECALL_ENCRYPTION_KEY": f"{NEW},{OLD}"}
    result = subprocess.run(
        [sys.executable, "-m", "contextrecall.cli", "keys", "rotate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and victim[0] in result.stderr
    assert OLD not in result.stderr and NEW not in result.stderr
