"""The worker's word to the hooks that it is done with a job: on a Redis broker, a short-lived
key per store and job id, set once the job is stored (or recorded as failed) in that store,
read by the next hook so its sent copy can leave the spool. The key names the store
(``store.store_id``): a client heeds only its own store's word, never that of a worker of
another store sharing the broker. Standard library only: the hook reads these.

Only a shortcut: the database stays the proof (``store.receipts.held``), and a key that is
missing (evicted, expired, another broker) just leaves the copy for `recall spool flush` or
the worker's sweep to settle.
"""

from __future__ import annotations

from contextrecall.broker.redis_wire import (
    REDIS_SCHEMES,
    RedisAddress,
    RedisWireError,
    resp_command,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from contextrecall.settings import Settings

PREFIX = "recall:held:"
KEEP_SECONDS = 7 * 86400  # a week: hooks of a session idle that long still hear of it


def _key(store: str, job_id: str) -> str:
    return f"{PREFIX}{store}:{job_id}"


def confirm(settings: Settings, store: str, job_id: str, timeout: float = 1.0) -> bool:
    """Say ``store`` is done with ``job_id``; False when the broker is not Redis or did not
    answer."""
    if not settings.broker_url.startswith(REDIS_SCHEMES):
        return False
    command = resp_command("SET", _key(store, job_id), "1", "EX", str(KEEP_SECONDS))
    try:
        RedisAddress.parse(settings.broker_url).call([command], timeout)
    except RedisWireError:
        return False
    return True


def confirmed(settings: Settings, store: str, job_ids: Sequence[str], timeout: float) -> set[str]:
    """Which of ``job_ids`` a worker of ``store`` said it is done with (none when it cannot
    tell)."""
    if not job_ids or not settings.broker_url.startswith(REDIS_SCHEMES):
        return set()
    try:
        values = RedisAddress.parse(settings.broker_url).mget(
            [_key(store, j) for j in job_ids], timeout
        )
    except RedisWireError:
        return set()
    return {job_id for job_id, value in zip(job_ids, values, strict=True) if value is not None}
