"""Content hashes, random ids and the form of a subagent's session id, cheap to import.

The hook imports this on every agent event: ``hashlib`` loads OpenSSL's binding and ``uuid``
loads ``platform``, each a few milliseconds, while the builtin SHA-2 module and ``os.urandom``
give the same results for what the hook needs. The builtin is ``_sha2`` since Python 3.12 and
``_sha256`` before.
"""

from __future__ import annotations

import os

try:
    from _sha2 import sha256 as _sha256  # Python 3.12 and later
except ImportError:
    try:
        from _sha256 import sha256 as _sha256  # Python 3.11
    except ImportError:  # an interpreter built without the builtin module
        from hashlib import sha256 as _sha256


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as 64 hex digits (identical to ``hashlib.sha256``)."""
    return _sha256(data).hexdigest()


def random_uuid() -> str:
    """A random (version 4) UUID in its 36-character text form, like ``str(uuid.uuid4())``."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


# A subagent's transcript is saved as a session of its own, named after its parent's
# (``<session>/agent-<id>``, as Claude Code names the file): its work is part of its parent's,
# where it comes back as the Task's report.
SUBAGENT_MARK = "/agent-"  # what only a subagent's session id holds


def subagent_session(parent: str, stem: str) -> str:
    """The session id of the subagent transcript ``stem`` (``agent-<id>``) of ``parent``."""
    return f"{parent}/{stem}"
