"""Encryption at rest: envelopes, key rotation, tampering, and the key file."""

from __future__ import annotations

import base64
import multiprocessing
import os
import stat
import traceback
from pathlib import Path

import pytest

from contextrecall import crypto
from contextrecall.crypto import (
    KeyRing,
    TamperedError,
    associated_data,
    generate_key,
    key_id,
    load_key_ring,
)
from contextrecall.settings import Settings

OLD_KEY = generate_key()
NEW_KEY = generate_key()
AD = associated_data("project-a", "session-1", "transcript_delta")
PLAINTEXT = b'{"role": "user", "content": "the raw turn"}\n'

# Envelope offsets: version | key id (4) | nonce (12) | ciphertext | tag (16)
NONCE_AT = 5
CIPHERTEXT_AT = 17


def settings_for(home: Path, **env: str) -> Settings:
    return Settings.from_env({"RECALL_HOME": str(home), **env})


def flipped(envelope: bytes, index: int) -> bytes:
    altered = bytearray(envelope)
    altered[index] ^= 0x01
    return bytes(altered)


# --- envelopes -----------------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", [PLAINTEXT, b"", os.urandom(100_000)])
def test_round_trip_returns_the_plaintext(plaintext: bytes) -> None:
    ring = KeyRing(NEW_KEY)
    assert ring.decrypt(ring.encrypt(plaintext, AD), AD) == plaintext


def test_envelope_names_version_and_newest_key_and_hides_plaintext() -> None:
    ring = KeyRing(f"{NEW_KEY},{OLD_KEY}")
    envelope = ring.encrypt(PLAINTEXT, AD)
    assert envelope[0] == crypto.VERSION
    assert envelope[1:NONCE_AT].hex() == key_id(base64.b64decode(NEW_KEY)) == ring.key_ids[0]
    assert len(envelope) == CIPHERTEXT_AT + len(PLAINTEXT) + crypto.TAG_BYTES
    assert PLAINTEXT not in envelope


def test_each_encryption_uses_a_fresh_nonce() -> None:
    ring = KeyRing(NEW_KEY)
    first, second = ring.encrypt(PLAINTEXT, AD), ring.encrypt(PLAINTEXT, AD)
    assert first[NONCE_AT:CIPHERTEXT_AT] != second[NONCE_AT:CIPHERTEXT_AT]
    assert first != second


def test_newest_key_encrypts_and_old_key_still_decrypts_after_a_new_key_is_prepended() -> None:
    old_envelope = KeyRing(OLD_KEY).encrypt(PLAINTEXT, AD)
    rotated = KeyRing(f"{NEW_KEY}, {OLD_KEY}")

    assert rotated.decrypt(old_envelope, AD) == PLAINTEXT
    new_envelope = rotated.encrypt(PLAINTEXT, AD)
    assert rotated.key_ids == (
        key_id(base64.b64decode(NEW_KEY)),
        key_id(base64.b64decode(OLD_KEY)),
    )
    assert new_envelope[1:NONCE_AT].hex() == rotated.key_ids[0]
    with pytest.raises(TamperedError, match="not in the key ring"):
        KeyRing(OLD_KEY).decrypt(new_envelope, AD)


def test_needs_rotation_only_for_envelopes_under_an_older_key() -> None:
    old_envelope = KeyRing(OLD_KEY).encrypt(PLAINTEXT, AD)
    rotated = KeyRing(f"{NEW_KEY},{OLD_KEY}")
    assert rotated.needs_rotation(old_envelope)
    assert not rotated.needs_rotation(rotated.encrypt(PLAINTEXT, AD))


def test_reencrypt_moves_an_envelope_to_the_newest_key() -> None:
    old_envelope = KeyRing(OLD_KEY).encrypt(PLAINTEXT, AD)
    rotated = KeyRing(f"{NEW_KEY},{OLD_KEY}")

    fresh = rotated.reencrypt(old_envelope, AD)

    assert not rotated.needs_rotation(fresh)
    assert KeyRing(NEW_KEY).decrypt(fresh, AD) == PLAINTEXT  # the old key can now be dropped


def test_reencrypt_leaves_an_envelope_under_the_newest_key_unchanged() -> None:
    ring = KeyRing(f"{NEW_KEY},{OLD_KEY}")
    envelope = ring.encrypt(PLAINTEXT, AD)
    assert ring.reencrypt(envelope, AD) == envelope


def test_reencrypt_refuses_a_tampered_envelope() -> None:
    old_envelope = KeyRing(OLD_KEY).encrypt(PLAINTEXT, AD)
    rotated = KeyRing(f"{NEW_KEY},{OLD_KEY}")
    with pytest.raises(TamperedError):
        rotated.reencrypt(flipped(old_envelope, CIPHERTEXT_AT), AD)
    with pytest.raises(TamperedError):
        rotated.reencrypt(old_envelope, associated_data("project-b", "session-1", "delta"))


def test_decrypt_accepts_bytes_like_values_from_database_drivers() -> None:
    ring = KeyRing(NEW_KEY)
    envelope = ring.encrypt(PLAINTEXT, AD)
    assert ring.decrypt(memoryview(envelope), AD) == PLAINTEXT
    assert ring.decrypt(bytearray(envelope), AD) == PLAINTEXT


# --- tampering -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "reason"),
    [
        (0, "version"),
        (1, "key id"),
        (NONCE_AT, "authentication"),
        (CIPHERTEXT_AT - 1, "authentication"),
        (CIPHERTEXT_AT, "authentication"),
        (CIPHERTEXT_AT + len(PLAINTEXT) - 1, "authentication"),
        (-crypto.TAG_BYTES, "authentication"),
        (-1, "authentication"),
    ],
    ids=[
        "version",
        "key-id",
        "nonce-first",
        "nonce-last",
        "ciphertext-first",
        "ciphertext-last",
        "tag-first",
        "tag-last",
    ],
)
def test_a_flipped_byte_anywhere_is_detected(index: int, reason: str) -> None:
    ring = KeyRing(NEW_KEY)
    envelope = ring.encrypt(PLAINTEXT, AD)
    with pytest.raises(TamperedError, match=reason):
        ring.decrypt(flipped(envelope, index), AD)


def test_a_key_id_naming_another_key_in_the_ring_is_detected() -> None:
    ring = KeyRing(f"{NEW_KEY},{OLD_KEY}")
    envelope = ring.encrypt(PLAINTEXT, AD)
    relabelled = envelope[:1] + bytes.fromhex(ring.key_ids[1]) + envelope[NONCE_AT:]
    with pytest.raises(TamperedError, match="authentication"):
        ring.decrypt(relabelled, AD)


@pytest.mark.parametrize(
    "elsewhere",
    [
        associated_data("project-b", "session-1", "transcript_delta"),
        associated_data("project-a", "session-2", "transcript_delta"),
        associated_data("project-a", "session-1", "snippet"),
        associated_data(None, "session-1", "transcript_delta"),
        associated_data("project-a", None, "transcript_delta"),
        b"",
    ],
    ids=["other-project", "other-session", "other-kind", "no-project", "no-session", "empty"],
)
def test_a_record_moved_to_another_place_is_detected(elsewhere: bytes) -> None:
    ring = KeyRing(NEW_KEY)
    envelope = ring.encrypt(PLAINTEXT, AD)
    with pytest.raises(TamperedError, match="another record"):
        ring.decrypt(envelope, elsewhere)


def test_records_swapped_between_two_projects_are_both_detected() -> None:
    ring = KeyRing(NEW_KEY)
    ad_a = associated_data("project-a", "session-1", "transcript_delta")
    ad_b = associated_data("project-b", "session-1", "transcript_delta")
    in_a, in_b = ring.encrypt(b"secret of a", ad_a), ring.encrypt(b"secret of b", ad_b)
    for envelope, ad in ((in_b, ad_a), (in_a, ad_b)):
        with pytest.raises(TamperedError):
            ring.decrypt(envelope, ad)


def test_records_swapped_between_two_sessions_are_both_detected() -> None:
    ring = KeyRing(NEW_KEY)
    ad_1 = associated_data("project-a", "session-1", "transcript_delta")
    ad_2 = associated_data("project-a", "session-2", "transcript_delta")
    in_1, in_2 = ring.encrypt(b"turn of 1", ad_1), ring.encrypt(b"turn of 2", ad_2)
    for envelope, ad in ((in_2, ad_1), (in_1, ad_2)):
        with pytest.raises(TamperedError):
            ring.decrypt(envelope, ad)


@pytest.mark.parametrize("keep", [0, 1, 5, CIPHERTEXT_AT, CIPHERTEXT_AT + 15, -1])
def test_a_truncated_envelope_is_detected(keep: int) -> None:
    ring = KeyRing(NEW_KEY)
    envelope = ring.encrypt(PLAINTEXT, AD)
    with pytest.raises(TamperedError):
        ring.decrypt(envelope[:keep], AD)


def test_an_envelope_with_bytes_appended_is_detected() -> None:
    ring = KeyRing(NEW_KEY)
    with pytest.raises(TamperedError):
        ring.decrypt(ring.encrypt(PLAINTEXT, AD) + b"\x00", AD)


def test_an_envelope_under_an_unknown_key_is_detected() -> None:
    envelope = KeyRing(generate_key()).encrypt(PLAINTEXT, AD)
    ring = KeyRing(f"{NEW_KEY},{OLD_KEY}")
    with pytest.raises(TamperedError, match="not in the key ring"):
        ring.decrypt(envelope, AD)
    with pytest.raises(TamperedError, match="not in the key ring"):
        ring.needs_rotation(envelope)


def test_an_unknown_version_is_detected() -> None:
    ring = KeyRing(NEW_KEY)
    envelope = ring.encrypt(PLAINTEXT, AD)
    with pytest.raises(TamperedError, match="version 2"):
        ring.decrypt(b"\x02" + envelope[1:], AD)


def test_tampered_error_messages_carry_no_secret() -> None:
    ring = KeyRing(NEW_KEY)
    envelope = ring.encrypt(PLAINTEXT, AD)
    with pytest.raises(TamperedError) as caught:
        ring.decrypt(flipped(envelope, -1), AD)
    message = str(caught.value)
    assert NEW_KEY not in message
    assert "raw turn" not in message


# --- associated data -----------------------------------------------------------------------


def test_associated_data_is_canonical_and_unambiguous() -> None:
    assert associated_data("p", "s", "k") == associated_data("p", "s", "k")
    distinct = {
        associated_data("p", "s", "k"),
        associated_data("p", None, "k"),
        associated_data("p", "", "k"),
        associated_data(None, "p", "k"),
        associated_data("p,s", None, "k"),
        associated_data("p", ",s", "k"),
        associated_data('p","s', None, "k"),
    }
    assert len(distinct) == 7


def test_associated_data_needs_a_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        associated_data("p", "s", "")


# --- key strings ---------------------------------------------------------------------------

SECRET_LOOKING = "c2VjcmV0LWtleS1tYXRlcmlhbC1kby1ub3QtZWNobw"  # unpadded, so invalid
SHORT_KEY = base64.b64encode(b"sixteen byte key").decode()


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (SECRET_LOOKING, "not valid base64"),
        ("not base64 at all!", "not valid base64"),
        (SHORT_KEY, "16 bytes"),
        (f"{NEW_KEY},{SHORT_KEY}", "2 of 2 decodes to 16 bytes"),
        (f"{NEW_KEY},,{OLD_KEY}", "2 of 3 is empty"),
        (f"{NEW_KEY},{SECRET_LOOKING}", "2 of 2 is not valid base64"),
        (f"{NEW_KEY},{NEW_KEY}", "twice"),
    ],
    ids=[
        "empty",
        "blank",
        "bad-padding",
        "not-base64",
        "short",
        "short-in-ring",
        "empty-entry",
        "bad-in-ring",
        "duplicate",
    ],
)
def test_a_bad_key_string_is_refused_without_echoing_key_material(spec: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        KeyRing(spec)
    assert "\n" not in str(caught.value)
    # Not in the message, nor anywhere in the traceback a log would show (no chained errors).
    logged = "".join(traceback.format_exception(caught.value))
    for material in (NEW_KEY, OLD_KEY, SECRET_LOOKING, SHORT_KEY, "not base64"):
        assert material not in logged


def test_key_ring_repr_shows_ids_not_keys() -> None:
    ring = KeyRing(f"{NEW_KEY},{OLD_KEY}")
    assert NEW_KEY not in repr(ring)
    assert ring.key_ids[0] in repr(ring)


def test_generate_key_gives_distinct_32_byte_keys() -> None:
    first, second = generate_key(), generate_key()
    assert len(base64.b64decode(first, validate=True)) == 32
    assert first != second


def test_from_keys_builds_the_same_ring_as_the_string_form() -> None:
    raw = [base64.b64decode(NEW_KEY), base64.b64decode(OLD_KEY)]
    ring = KeyRing.from_keys(raw)
    assert ring.key_ids == KeyRing(f"{NEW_KEY},{OLD_KEY}").key_ids
    with pytest.raises(ValueError, match="32 bytes"):
        KeyRing.from_keys([b"short"])


# --- loading the ring ----------------------------------------------------------------------


def test_environment_key_wins_and_no_key_file_is_written(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, RECALL_ENCRYPTION_KEY=f"{NEW_KEY},{OLD_KEY}")
    ring = load_key_ring(settings)
    assert ring.key_ids == KeyRing(f"{NEW_KEY},{OLD_KEY}").key_ids
    assert not settings.key_file.exists()


def test_bad_environment_key_names_the_variable_not_the_key(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, RECALL_ENCRYPTION_KEY=SECRET_LOOKING)
    with pytest.raises(ValueError, match="RECALL_ENCRYPTION_KEY") as caught:
        load_key_ring(settings)
    assert SECRET_LOOKING not in str(caught.value)


def test_key_file_is_generated_with_mode_0600_and_reused(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "fresh-home")

    first = load_key_ring(settings)

    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    second = load_key_ring(settings)
    assert second.key_ids == first.key_ids
    assert second.decrypt(first.encrypt(PLAINTEXT, AD), AD) == PLAINTEXT
    assert [p.name for p in settings.home.iterdir()] == ["key"]  # no temporary left behind


def test_key_file_may_hold_a_ring_for_rotation(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    write_private(settings.key_file, f"{NEW_KEY},{OLD_KEY}\n")
    assert load_key_ring(settings).key_ids == KeyRing(f"{NEW_KEY},{OLD_KEY}").key_ids


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644])
def test_key_file_accessible_by_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    settings = settings_for(tmp_path)
    write_private(settings.key_file, NEW_KEY + "\n")
    settings.key_file.chmod(mode)
    with pytest.raises(ValueError, match="chmod 600") as caught:
        load_key_ring(settings)
    assert NEW_KEY not in str(caught.value)


def test_corrupt_key_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    write_private(settings.key_file, SECRET_LOOKING + "\n")
    with pytest.raises(ValueError, match="key file") as caught:
        load_key_ring(settings)
    assert SECRET_LOOKING not in str(caught.value)


def test_loser_of_the_key_file_race_adopts_the_winners_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path)
    real_link = os.link

    def winner_links_first(source: str | Path, target: str | Path) -> None:
        # Another process publishes its key between our existence check and our link.
        write_private(Path(target), NEW_KEY + "\n")
        real_link(source, target)

    monkeypatch.setattr(os, "link", winner_links_first)
    ring = load_key_ring(settings)

    assert ring.key_ids == KeyRing(NEW_KEY).key_ids
    assert [p.name for p in settings.home.iterdir()] == ["key"]


def _load_key_ids(home: str, barrier, results) -> None:  # runs in a child process
    barrier.wait()
    results.put(load_key_ring(Settings.from_env({"RECALL_HOME": home})).key_ids)


def test_concurrent_first_loads_all_end_with_the_same_key(tmp_path: Path) -> None:
    processes = 8
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    home = tmp_path / "shared-home"
    workers = [
        context.Process(target=_load_key_ids, args=(str(home), barrier, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    key_ids = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0

    assert len(set(key_ids)) == 1
    assert load_key_ring(settings_for(home)).key_ids == key_ids[0]
    assert [p.name for p in home.iterdir()] == ["key"]


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
