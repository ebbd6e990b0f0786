"""The hook's cheap hashes and ids agree with the standard library's."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from contextrecall.ids import random_uuid, sha256_hex


@pytest.mark.parametrize("data", [b"", b"abc", bytes(range(256)) * 1000])
def test_sha256_matches_hashlib(data):
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_random_uuid_is_a_distinct_version_4_uuid():
    values = {random_uuid() for _ in range(1000)}
    assert len(values) == 1000
    for value in list(values)[:50]:
        parsed = uuid.UUID(value)
        assert str(parsed) == value
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
