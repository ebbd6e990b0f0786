"""The recall cache's generation counters: every save bumps its project's generation, so a
read after a save never sees stale memory. Any cache failure is swallowed: the cache is an
optimisation, never a dependency."""

from __future__ import annotations

import logging

from contextrecall.settings import Settings

log = logging.getLogger(__name__)
_clients: dict[str, object] = {}


def generation_key(project_id: str) -> str:
    return f"recall:gen:{project_id}"


def client(settings: Settings):  # type: ignore[no-untyped-def]
    """A redis-py client for the cache URL, or None when no cache is configured."""
    if not settings.cache_url:
        return None
    found = _clients.get(settings.cache_url)
    if found is None:
        import redis

        found = _clients[settings.cache_url] = redis.Redis.from_url(
            settings.cache_url, socket_timeout=0.2, socket_connect_timeout=0.2
        )
    return found


def bump_generation(settings: Settings, project_id: str) -> None:
    """Invalidate every cached read of ``project_id``."""
    redis_client = client(settings)
    if redis_client is None:
        return
    try:
        redis_client.incr(generation_key(project_id))
    except Exception as exc:  # the cache being down must not fail a save
        log.warning("recall cache: could not bump generation: %s", exc)
