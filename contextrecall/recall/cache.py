"""The recall cache: rendered context blocks in Redis, invalidated by per-project generations.

Every save bumps its project's generation; a cached block records the generation it was built
at and counts only while that is still current, so a read after a save never sees stale
memory. Keys are namespaced by a hash of the project's identity. Any cache failure reads as a
miss (or a skipped write): the cache makes recall faster, never broken.

It speaks Redis through the stdlib client in ``broker.redis_wire`` so the hook can read a
cached block without importing redis-py. The generation itself, which the write side bumps,
is ``contextrecall.generation``.
"""

from __future__ import annotations

from contextrecall.broker.redis_wire import RedisWireError, resp_command
from contextrecall.generation import TIMEOUT, cache_address, generation_key, project_namespace
from contextrecall.ids import sha256_hex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextrecall.settings import Settings

TTL_SECONDS = 3600


def block_key(identity: str, kind: str, request: str) -> str:
    request_hash = sha256_hex("\0".join((kind, request)).encode())[:24]
    return f"recall:blk:{project_namespace(identity)}:{request_hash}"


def read(settings: Settings, identity: str, kind: str, request: str) -> tuple[str | None, int]:
    """(the cached block or None, the project's current generation)."""
    address = cache_address(settings)
    if address is None:
        return None, 0
    try:
        generation, value = address.mget(
            [generation_key(identity), block_key(identity, kind, request)], TIMEOUT
        )
    except (RedisWireError, ValueError) as exc:
        _debug("recall cache read failed: %s", exc)
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
    address = cache_address(settings)
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
    except RedisWireError as exc:
        _debug("recall cache write failed: %s", exc)


def _debug(message: str, exc: Exception) -> None:
    import logging  # only on failure: logging costs a hook about 2 ms to import

    logging.getLogger(__name__).debug(message, exc)
