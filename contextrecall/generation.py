"""A project's cache generation: the counter both sides of the system agree on.

Every save bumps its project's generation after commit (the write side); a cached read
records the generation it was built at and counts only while that is still current (the read
side, ``contextrecall.recall.cache``), so a read after a save never sees stale memory.
"""

from __future__ import annotations

import logging

from contextrecall.broker.redis_wire import RedisAddress, RedisWireError, resp_command
from contextrecall.ids import sha256_hex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextrecall.settings import Settings

log = logging.getLogger(__name__)
TIMEOUT = 0.2  # seconds for any cache round trip; slower reads as a miss


def project_namespace(identity: str) -> str:
    """The key prefix of a project's cache entries: a hash of its identity."""
    return sha256_hex(identity.encode())[:24]


def generation_key(identity: str) -> str:
    return f"recall:gen:{project_namespace(identity)}"


def cache_address(settings: Settings) -> RedisAddress | None:
    """The cache's Redis, or None when no cache is configured."""
    return RedisAddress.parse(settings.cache_url) if settings.cache_url else None


def bump_generation(settings: Settings, identity: str) -> None:
    """Invalidate every cached read of the project with ``identity``."""
    address = cache_address(settings)
    if address is None:
        return
    try:
        address.call([resp_command("INCR", generation_key(identity))], TIMEOUT)
    except RedisWireError as exc:  # the cache being down must not fail a save
        log.warning("recall cache: could not bump generation: %s", exc)
