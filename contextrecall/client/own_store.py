"""The store this client writes to, by id (``store.store_id``): learned from the database by
whatever opens it here (the CLI, a worker of this ``RECALL_HOME``) and kept as one small file
per database URL under ``RECALL_HOME/stores``, so a hook names it on the jobs it sends and
heeds only its confirmations without opening the database. Standard library only.

Keyed by URL, so a configuration that names another database starts out not knowing its
store, rather than trusting the old one's.
"""

from __future__ import annotations

import os

from contextrecall.ids import sha256_hex
from contextrecall.settings import Settings
from contextrecall.small_files import replace_text

STORES = "stores"


def _path(settings: Settings) -> str:
    return settings.location(STORES, sha256_hex(settings.database_url.encode())[:32])


def known_store(settings: Settings) -> str | None:
    """The id of the store ``settings`` write to, if learned here; None before."""
    try:
        with open(_path(settings), encoding="ascii") as handle:
            return handle.read().strip() or None
    except (OSError, ValueError):
        return None


def remember_store(settings: Settings, store: str) -> None:
    """Keep ``store`` as the id of the store ``settings`` write to (a no-op when known)."""
    if known_store(settings) == store:
        return
    path = _path(settings)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    replace_text(path, store + "\n", encoding="ascii")


def learn_store(settings: Settings) -> str:
    """Read the id of the store ``settings`` write to from its database, and keep it here for
    the hooks. Needs the database (the CLI's and the worker's side)."""
    from contextrecall.store.store_id import read_store

    store = read_store(settings)
    remember_store(settings, store)
    return store


def stamp(job: dict, store: str | None) -> dict:
    """``job`` naming the store it is for; without one while unknown, so that any worker of
    the broker may store it."""
    if store:
        job["store"] = store
    else:
        job.pop("store", None)
    return job
