"""The recall cache: rendered context blocks in Redis, invalidated by per-project generations.

Every save bumps its project's generation; a cached block records the generation it was built
at and counts only while that is still current, so a read after a save never sees stale
memory. Keys are namespaced by a hash of the project's identity. Any cache failure reads as a
miss (or a skipped write): the cache makes recall faster, never broken.

It speaks Redis through the stdlib client in ``publish`` so the hook can read a cached block
without importing redis-py.
"""

from __future__ import annotations

import logging

from contextrecall.ids import sha256_hex
from contextrecall.publish import PublishError, RedisAddress, resp_command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextrecall.settings import Settings

log = logging.getLogger(__name__)
TTL_SECONDS = 3600
TIMEOUT = 0.2


def _project(identity: str) -> str:
    return sha256_hex(identity.encode())[:24]


def generation_key(identity: str) -> str:
    return f"recall:gen:{_project(identity)}"


def block_key(identity: str, kind: str, request: str) -> str:
    request_hash = sha256_hex("\0".join((kind, request)).encode())[:24]
    return f"recall:blk:{_project(identity)}:{request_hash}"


def _address(settings: Settings) -> RedisAddress | None:
    return RedisAddress.parse(settings.cache_url) if settings.cache_url else None


def read(settings: Settings, identity: str, kind: str, request: str) -> tuple[str | None, int]:
    """(the cached block or None, the project's current generation)."""
    address = _address(settings)
    if address is None:
        return None, 0
    try:
        generation, value = address.mget(
            [generation_key(identity), block_key(identity, kind, request)], TIMEOUT
        )
    except (PublishError, ValueError) as exc:
        log.debug("recall cache read failed: %s", exc)
        return None, -1
    current = int(generation or 0)
    if value is None:
        return None, current
    stamp, _, block = value.decode("utf-8", errors="replace").partition("\n")
    return (block if stamp == str(current) else None), current


def write(
    settings: Settings, identity: str, kind: str, request: str, block: str, generation: int
) -> None:
    """Cache ``block`` as built at ``generation`` (skipped when the read had failed)."""
    address = _address(settings)
    if address is None or generation < 0:
        return
    value = f"{generation}\n{block}".encode()
    try:
        address.call(
            [
                resp_command(
                    "SET", block_key(identity, kind, request), value, "EX", str(TTL_SECONDS)
                )
            ],
            TIMEOUT,
        )
    except PublishError as exc:
        log.debug("recall cache write failed: %s", exc)


def bump_generation(settings: Settings, identity: str) -> None:
    """Invalidate every cached read of the project with ``identity``."""
    address = _address(settings)
    if address is None:
        return
    try:
        address.call([resp_command("INCR", generation_key(identity))], TIMEOUT)
    except PublishError as exc:  # the cache being down must not fail a save
        log.warning("recall cache: could not bump generation: %s", exc)
