"""Encryption at rest for raw session content: AES-256-GCM envelopes under a rotatable key ring.

Key ring format (``RECALL_ENCRYPTION_KEY``, or the key file under ``RECALL_HOME``): one base64
encoded 32-byte key, or several separated by commas, **newest first**. The newest key encrypts;
every key in the ring decrypts. To rotate, prepend a new key (``generate_key()``), keep
the old ones until ``needs_rotation`` is false for every stored envelope, then drop them.

Envelope layout (all fields authenticated)::

    version (1 byte, 0x01) | key id (4 bytes) | nonce (12 bytes) | ciphertext + GCM tag (16 bytes)

The key id is the first 4 bytes of SHA-256 of the key (shown as 8 hex characters), so an
operator can tell which key wrote a record without seeing any key. The version byte and key id
are fed to GCM as associated data together with the caller's associated data, which binds each
ciphertext to its project, session and record kind (see ``associated_data``).

Nonces are random; with 96-bit nonces one key should encrypt well under 2**32 envelopes, which
rotation keeps true for any realistic deployment.
"""

from __future__ import annotations

import binascii
import json
import os
import stat

from contextrecall.ids import sha256_hex

try:  # The hook encrypts every job: the public module costs it ~16 ms of imports, this ~4 ms.
    from cryptography.hazmat.bindings._rust import openssl as _rust_openssl

    AESGCM = _rust_openssl.aead.AESGCM
except (ImportError, AttributeError):  # pragma: no cover - another cryptography layout
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TYPE_CHECKING = False  # importing typing costs the hook ~3 ms; annotations are strings
if TYPE_CHECKING:
    from collections.abc import Sequence

    from contextrecall.settings import Settings

VERSION = 1
KEY_BYTES = 32
KEY_ID_BYTES = 4
NONCE_BYTES = 12
TAG_BYTES = 16
_HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES
_KEY_ID = slice(1, 1 + KEY_ID_BYTES)  # after the version byte
_AD_LABEL = "contextrecall/ad/v1"


class TamperedError(Exception):
    """An envelope failed to decrypt: altered, truncated, misplaced, or under an unknown key."""


class UnknownKeyError(TamperedError):
    """An envelope sealed under a key this key ring does not hold: not necessarily altered,
    perhaps sealed by a client whose ring has a key this process lacks (yet)."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"envelope names key id {key_id}, which is not in the key ring")
        self.key_id = key_id


def key_id_of(envelope: bytes) -> str:
    """The key id (hex) an envelope says it was sealed under, unchecked: its bytes after the
    version byte (enough of a sealed job's start to tell which key it waits for)."""
    return bytes(envelope[_KEY_ID]).hex()


def generate_key() -> str:
    """A new random key, base64 encoded, in the format ``RECALL_ENCRYPTION_KEY`` expects."""
    return binascii.b2a_base64(os.urandom(KEY_BYTES), newline=False).decode("ascii")


def key_id(key: bytes) -> str:
    """The public id of ``key``: the first 8 hex characters of its SHA-256."""
    return sha256_hex(key)[: 2 * KEY_ID_BYTES]


def associated_data(project_id: str | None, session_id: str | None, kind: str) -> bytes:
    """Canonical bytes binding a ciphertext to its project, session and record kind.

    A JSON list in fixed order is unambiguous: no character inside an id can make two different
    triples encode alike, and ``None`` stays distinct from ``""``.
    """
    if not kind:
        raise ValueError("associated data needs a non-empty record kind")
    fields = [_AD_LABEL, project_id, session_id, kind]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _decode_key(text: str, position: int, count: int) -> bytes:
    # Messages name the entry's position, never its content: the content is key material.
    where = f"encryption key {position} of {count}"
    if not text:
        raise ValueError(f"{where} is empty")
    try:
        key = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{where} decodes to {len(key)} bytes; AES-256 needs {KEY_BYTES}")
    return key


class KeyRing:
    """AES-256-GCM keys, newest first: the newest encrypts, any of them decrypts."""

    __slots__ = ("_ciphers", "_ids")

    def __init__(self, spec: str) -> None:
        """Parse ``spec``: base64 keys separated by commas, newest first."""
        parts = [part.strip() for part in spec.strip().split(",")]
        if parts == [""]:
            raise ValueError("encryption key ring is empty")
        self._init_keys([_decode_key(p, i, len(parts)) for i, p in enumerate(parts, 1)])

    @classmethod
    def from_keys(cls, keys: Sequence[bytes]) -> KeyRing:
        """A ring of raw 32-byte keys, newest first."""
        if not keys:
            raise ValueError("encryption key ring is empty")
        if any(len(key) != KEY_BYTES for key in keys):
            raise ValueError(f"every encryption key must be {KEY_BYTES} bytes")
        ring = cls.__new__(cls)
        ring._init_keys(list(keys))
        return ring

    def _init_keys(self, keys: list[bytes]) -> None:
        ids = [bytes.fromhex(key_id(key)) for key in keys]
        if len(set(ids)) != len(ids):
            raise ValueError("encryption key ring lists the same key (or key id) twice")
        self._ids = ids
        self._ciphers = {kid: AESGCM(key) for kid, key in zip(ids, keys, strict=True)}

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Hex ids of the keys, newest first."""
        return tuple(kid.hex() for kid in self._ids)

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={list(self.key_ids)!r})"

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """Encrypt under the newest key into a self-describing envelope."""
        kid = self._ids[0]
        header = bytes([VERSION]) + kid
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[kid].encrypt(nonce, plaintext, header + associated_data)
        return header + nonce + sealed

    def decrypt(self, envelope: bytes, associated_data: bytes) -> bytes:
        """The plaintext of ``envelope``; ``TamperedError`` unless it is intact and in place."""
        envelope = bytes(envelope)
        kid = self._key_id_of(envelope)
        header, nonce = envelope[: 1 + KEY_ID_BYTES], envelope[1 + KEY_ID_BYTES : _HEADER_BYTES]
        from cryptography.exceptions import InvalidTag

        try:
            return self._ciphers[kid].decrypt(
                nonce, envelope[_HEADER_BYTES:], header + associated_data
            )
        except InvalidTag:
            raise TamperedError(
                "envelope failed authentication: its bytes were altered or it belongs to "
                "another record (project, session or kind)"
            ) from None

    def needs_rotation(self, envelope: bytes) -> bool:
        """Whether ``envelope`` was written under a key other than the newest."""
        return self._key_id_of(bytes(envelope)) != self._ids[0]

    def reencrypt(self, envelope: bytes, associated_data: bytes) -> bytes:
        """``envelope`` under the newest key, after authenticating it.

        An envelope already under the newest key comes back unchanged, so a rotation job can
        run over every row and write only the ones that changed.
        """
        plaintext = self.decrypt(envelope, associated_data)
        if not self.needs_rotation(envelope):
            return bytes(envelope)
        return self.encrypt(plaintext, associated_data)

    def _key_id_of(self, envelope: bytes) -> bytes:
        """Validate the header and return the raw key id it names."""
        if len(envelope) < _HEADER_BYTES + TAG_BYTES:
            raise TamperedError(f"envelope is truncated ({len(envelope)} bytes)")
        if envelope[0] != VERSION:
            raise TamperedError(f"envelope version {envelope[0]} is not supported")
        kid = envelope[_KEY_ID]
        if kid not in self._ciphers:
            raise UnknownKeyError(kid.hex())
        return kid


def load_key_ring(settings: Settings) -> KeyRing:
    """The key ring from ``RECALL_ENCRYPTION_KEY``, else from the key file, made on first use."""
    if settings.encryption_key:
        try:
            return KeyRing(settings.encryption_key)
        except ValueError as exc:
            raise ValueError(f"RECALL_ENCRYPTION_KEY: {exc}") from None
    path = settings.location("key")
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        _create_key_file(path)
    return _read_key_file(path)


def _read_key_file(path: str) -> KeyRing:
    with open(path, "rb") as handle:
        # Check the mode of the file actually read, not of whatever the path names later.
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if os.name == "posix" and mode & 0o077:
            raise ValueError(
                f"key file {path} is accessible by group or others (mode {mode:04o}); "
                f"run: chmod 600 {path}"
            )
        spec = handle.read().decode("ascii", errors="replace")
    try:
        return KeyRing(spec)
    except ValueError as exc:
        raise ValueError(f"key file {path}: {exc}") from None


def _create_key_file(path: str) -> None:
    """Write a new key to ``path`` unless another process gets there first.

    The key goes to a private temporary file first and is then hard-linked into place: the link
    fails if the key file exists, so exactly one process wins, and readers never see a
    half-written key, even if the writer dies mid-way.
    """
    folder, name = os.path.split(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, (generate_key() + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another process won the race; the caller reads its key
    finally:
        os.unlink(temporary)
