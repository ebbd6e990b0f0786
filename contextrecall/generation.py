"""A project's cache generation: the counter both sides of the system agree on.

Every save bumps its project's generation after commit (the write side); a cached read
records the generation it was built at and counts only while that is still current (the read
side, ``contextrecall.recall.cache``), so a read after a save never sees stale memory.
"""

from __future__ import annotations

from contextrecall.broker.redis_wire import RedisAddress, RedisWireError, resp_command
from contextrecall.ids import sha256_hex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextrecall.settings import Settings

TIMEOUT = 0.2  # seconds for any cache round trip; slower reads as a miss


def project_namespace(identity: str) -> str:
    """The key prefix of a project's cache entries: a hash of its identity."""
    return sha256_hex(identity.encode())[:24]


def generation_key(identity: str) -> str:
    return f"recall:gen:{project_namespace(identity)}"


def cache_address(settings: Settings) -> RedisAddress | None:
    """The cache's Redis, or None when no cache is configured."""
    return RedisAddress.parse(settings.cache_url) if settings.cache_url else None


def generation_file(settings: Settings, identity: str) -> str:
    """Where the embedded default (no Redis) keeps a project's generation."""
    return settings.location("index", f"{project_namespace(identity)}.generation")


def file_generation(path: str) -> int:
    """The generation kept in ``path`` (0 before the first save)."""
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def _bump_file(path: str) -> int:
    import fcntl
    import os

    from contextrecall.small_files import replace_text

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        value = file_generation(path) + 1
        replace_text(path, str(value), encoding="ascii")
        return value


def bump_generation(settings: Settings, identity: str) -> int | None:
    """Invalidate every cached read and the index of the project with ``identity``; the new
    generation, or None when it could not be bumped (the cache is down)."""
    address = cache_address(settings)
    try:
        if address is None:
            return _bump_file(generation_file(settings, identity))
        (reply,) = address.call([resp_command("INCR", generation_key(identity))], TIMEOUT)
        return int(reply[1:])
    except (RedisWireError, OSError, ValueError) as exc:  # must not fail a save
        import logging  # only here: the hook reads generations, and logging costs it 2 ms

        logging.getLogger(__name__).warning("recall cache: could not bump generation: %s", exc)
        return None
