"""Where a project's recall index lives: Redis (with a cache configured) or a local SQLite file
(the embedded default). Both speak the standard library only, so the hook reads them without
SQLAlchemy, PyMySQL or redis-py; the worker writes them through the same classes
(``redis_store.RedisIndex``, ``file_store.FileIndex``).

What the index holds, per project (``format`` encodes it):
- records: docno -> one memory as ranking needs it (compressed);
- ids: memory id -> docno, turns: (session, part, position) -> docno;
- postings: (kind, word) -> the docnos holding it, appended as memory arrives;
- dead: docnos of session summaries rewritten since (their postings stay until a rebuild);
- odd: docnos out of rank order. Of one kind, a docno not odd ranks above every smaller one
  not odd among equals (``candidate_rank``: newer, then the greater id), as a build numbers
  them, so a common word's ties are picked by docno; memory saved out of time order is odd;
- newest: the session summaries and decisions by time;
- frequencies: document counts of terms, copied from the database;
- meta: the generation it is current at, the next docno, the session-start block.

The index is stamped with the project's generation (``contextrecall.generation``): it counts
only while the stamp is current, so a read never sees memory older than the database's. An
index written in an earlier ``FORMAT`` counts as missing: the worker rebuilds it.
"""

from __future__ import annotations

from contextrecall.broker.redis_wire import RedisAddress
from contextrecall.recall.index.file_store import FileIndex
from contextrecall.recall.index.redis_store import RedisIndex


def index_kept(settings) -> bool:
    """Whether this configuration keeps recall indexes. Each counts only while its stamp is
    the project's generation, which every save bumps: in Redis, shared by every machine's
    saves, or in a file beside the embedded database. A file beside a shared database would
    miss another machine's saves and still look current, so there reads go to the database."""
    return bool(settings.cache_url) or settings.is_embedded_database


def open_index(settings, identity: str, reader: bool = True) -> RedisIndex | FileIndex:
    """The project's index where this configuration keeps it (see ``RedisIndex``)."""
    from contextrecall.generation import generation_key, project_namespace

    namespace = project_namespace(identity)
    if settings.cache_url:
        address = RedisAddress.parse(settings.cache_url)
        return RedisIndex(address, namespace, generation_key(identity), reader)
    return FileIndex(settings.location("index"), namespace)
