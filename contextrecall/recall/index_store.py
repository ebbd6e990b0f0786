"""Where a project's recall index lives: Redis (with a cache configured) or a local SQLite file
(the embedded default). Both speak the standard library only, so the hook reads them without
SQLAlchemy, PyMySQL or redis-py; the worker writes them through the same classes.

What the index holds, per project (``index_format`` encodes it):
- records: docno -> one memory as ranking needs it (compressed);
- ids: memory id -> docno, turns: (session, part, position) -> docno;
- postings: (kind, word) -> the docnos holding it, appended as memory arrives;
- dead: docnos of session summaries rewritten since (their postings stay until a rebuild);
- newest: the session summaries and decisions by time;
- frequencies: document counts of terms, copied from the database;
- meta: the generation it is current at, the next docno, the session-start block.

The index is stamped with the project's generation (``contextrecall.generation``): it counts
only while the stamp is current, so a read never sees memory older than the database's.
"""

from __future__ import annotations

import os

from contextrecall.broker.redis_wire import RedisAddress, RedisWireError, resp_command
from contextrecall.recall.index_format import pack, unpack

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

TIMEOUT = 0.3  # seconds for the hook's reads; slower reads fall back to the database
WRITE_TIMEOUT = 30.0
BATCH = 2000  # commands per pipeline when writing


class Changes:
    """What one sync or build adds to an index, gathered before it is written at once."""

    def __init__(self) -> None:
        self.records: dict[int, bytes] = {}
        self.ids: dict[str, int] = {}
        self.postings: dict[tuple[str, str], list[int]] = {}
        self.dead: dict[str, list[int]] = {}
        self.newest: dict[str, dict[int, float]] = {}
        self.dropped_newest: dict[str, list[int]] = {}
        self.turns: dict[str, int] = {}
        self.frequencies: dict[str, int] = {}
        self.meta: dict[str, str] = {}


class RedisIndex:
    """A project's index in Redis, under ``recall:ix:<namespace>:<build>:``; the key
    ``recall:ix:<namespace>`` names the current build, so a rebuild switches at once."""

    def __init__(self, address: RedisAddress, namespace: str, reader: bool = True) -> None:
        """A ``reader`` (the hook) keeps one connection for all its reads, within ``TIMEOUT``
        seconds in all; a writer (the worker) connects for each pipeline."""
        self.address, self.namespace, self.reader = address, namespace, reader
        self.pointer = f"recall:ix:{namespace}"
        self.prefix: str | None = None
        self.connection = None

    # -- reading (the hook) ---------------------------------------------------------------

    def _pipe(self, commands: list[bytes]) -> list[Any]:
        if not self.reader:
            return self.address.pipelines(lambda pipe: pipe(commands), WRITE_TIMEOUT)
        if self.connection is None:
            self.connection = self.address.connect(TIMEOUT)
        return self.connection.pipe(commands)

    def open(self, generation_key: str) -> tuple[int | None, int]:
        """(the index's stamp or None when there is none, the project's generation)."""
        generation, build = self._pipe([resp_command("MGET", generation_key, self.pointer)])[0]
        current = int(generation or 0)
        if build is None:
            return None, current
        self.prefix = f"{self.pointer}:{build.decode()}:"
        (stamp,) = self._pipe([resp_command("HGET", self.prefix + "meta", "stamp")])
        return (int(stamp) if stamp is not None else None), current

    def meta(self, field: str) -> str | None:
        (value,) = self._pipe([resp_command("HGET", self.prefix + "meta", field)])
        return value.decode() if value is not None else None

    def frequencies(self, wanted: Sequence[str]) -> dict[str, int]:
        if not wanted:
            return {}
        (values,) = self._pipe([resp_command("HMGET", self.prefix + "df", *wanted)])
        return {t: int(v) for t, v in zip(wanted, values, strict=True) if v is not None}

    def postings(self, kind: str, words: Sequence[str]) -> tuple[dict[str, list[int]], set[int]]:
        """Docnos holding each word, and the dead docnos of ``kind``."""
        replies = self._pipe(
            [resp_command("GET", f"{self.prefix}p:{kind}:{word}") for word in words]
            + [resp_command("GET", f"{self.prefix}dead:{kind}")]
        )
        found = {word: unpack(value) for word, value in zip(words, replies, strict=False) if value}
        return found, set(unpack(replies[-1] or b""))

    def newest(self, kind: str, count: int) -> list[int]:
        (values,) = self._pipe(
            [resp_command("ZREVRANGE", f"{self.prefix}new:{kind}", "0", str(count - 1))]
        )
        return [int(v) for v in values]

    def records(self, docnos: Sequence[int]) -> list[bytes | None]:
        if not docnos:
            return []
        (values,) = self._pipe(
            [resp_command("HMGET", self.prefix + "rec", *(str(d) for d in docnos))]
        )
        return values

    def turns(self, fields: Sequence[str]) -> list[int | None]:
        if not fields:
            return []
        (values,) = self._pipe([resp_command("HMGET", self.prefix + "turn", *fields)])
        return [int(v) if v is not None else None for v in values]

    # -- writing (the worker) -------------------------------------------------------------

    def docnos(self, ids: Sequence[str]) -> dict[str, int]:
        if not ids:
            return {}
        (values,) = self._pipe([resp_command("HMGET", self.prefix + "ids", *ids)])
        return {i: int(v) for i, v in zip(ids, values, strict=True) if v is not None}

    def start_build(self) -> None:
        """Point writes at a new, empty build (the current one stays readable)."""
        self.prefix = f"{self.pointer}:{os.urandom(6).hex()}:"

    def write(self, changes: Changes) -> None:
        p = self.prefix
        commands = [resp_command("HSET", p + "rec", str(d), v) for d, v in changes.records.items()]
        commands += [resp_command("HSET", p + "ids", i, str(d)) for i, d in changes.ids.items()]
        commands += [resp_command("HSET", p + "turn", f, str(d)) for f, d in changes.turns.items()]
        commands += [
            resp_command("APPEND", f"{p}p:{kind}:{word}", pack(docnos))
            for (kind, word), docnos in changes.postings.items()
        ]
        commands += [
            resp_command("APPEND", f"{p}dead:{kind}", pack(docnos))
            for kind, docnos in changes.dead.items()
        ]
        for kind, docnos in changes.dropped_newest.items():
            commands.append(resp_command("ZREM", f"{p}new:{kind}", *map(str, docnos)))
        for kind, scored in changes.newest.items():
            for docno, score in scored.items():
                commands.append(resp_command("ZADD", f"{p}new:{kind}", repr(score), str(docno)))
        commands += [
            resp_command("HSET", p + "df", term, str(count))
            for term, count in changes.frequencies.items()
        ]
        if changes.meta:  # last: the stamp says the rest is in
            pairs = [part for pair in changes.meta.items() for part in pair]
            commands.append(resp_command("HSET", p + "meta", *pairs))

        def run(pipe) -> None:
            for start in range(0, len(commands), BATCH):
                pipe(commands[start : start + BATCH])

        self.address.pipelines(run, WRITE_TIMEOUT)

    def switch(self) -> None:
        """Make the build being written the current one; drop the one it replaces."""
        (old,) = self._pipe([resp_command("GETSET", self.pointer, self.prefix.split(":")[-2])])
        if old is not None:
            self._drop(f"{self.pointer}:{old.decode()}:")

    def delete(self) -> None:
        """Remove the index entirely (the database keeps everything)."""
        self._drop(f"{self.pointer}:")
        self.address.pipelines(lambda pipe: pipe([resp_command("DEL", self.pointer)]), 5.0)

    def _drop(self, prefix: str) -> None:
        def run(pipe) -> None:
            cursor = b"0"
            while True:
                cursor, keys = pipe(
                    [resp_command("SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000")]
                )[0]
                if keys:
                    pipe([resp_command("UNLINK", *keys)])
                if cursor == b"0":
                    return

        self.address.pipelines(run, WRITE_TIMEOUT)

    def size(self) -> int:
        """Bytes the current build takes in Redis (MEMORY USAGE of each of its keys)."""
        if self.prefix is None:
            return 0

        def run(pipe) -> int:
            total, cursor = 0, b"0"
            while True:
                cursor, keys = pipe(
                    [resp_command("SCAN", cursor, "MATCH", self.prefix + "*", "COUNT", "1000")]
                )[0]
                if keys:
                    sizes = pipe([resp_command("MEMORY", "USAGE", k, "SAMPLES", "0") for k in keys])
                    total += sum(s or 0 for s in sizes)
                if cursor == b"0":
                    return total

        return self.address.pipelines(run, WRITE_TIMEOUT)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (field TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS rec (docno INTEGER PRIMARY KEY, value BLOB);
CREATE TABLE IF NOT EXISTS ids (id TEXT PRIMARY KEY, docno INTEGER);
CREATE TABLE IF NOT EXISTS turn (field TEXT PRIMARY KEY, docno INTEGER);
CREATE TABLE IF NOT EXISTS post (kind TEXT, word TEXT, docnos BLOB, PRIMARY KEY (kind, word));
CREATE TABLE IF NOT EXISTS dead (kind TEXT PRIMARY KEY, docnos BLOB);
CREATE TABLE IF NOT EXISTS new (kind TEXT, docno INTEGER, at REAL, PRIMARY KEY (kind, docno));
CREATE INDEX IF NOT EXISTS new_at ON new (kind, at);
CREATE TABLE IF NOT EXISTS df (term TEXT PRIMARY KEY, n INTEGER);
"""


class FileIndex:
    """A project's index in a SQLite file under ``$RECALL_HOME/index/`` (the embedded
    default, no Redis); a rebuild writes a new file and renames it over the old one."""

    def __init__(self, folder: str, namespace: str) -> None:
        self.path = os.path.join(folder, f"{namespace}.sqlite")
        self.generation_path = os.path.join(folder, f"{namespace}.generation")
        self._db = None

    def _connection(self):
        if self._db is None:
            import sqlite3

            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=0.2)
        return self._db

    def _rows(self, sql: str, args: Sequence[Any]) -> list[tuple]:
        return self._connection().execute(sql, tuple(args)).fetchall()

    def open(self) -> tuple[int | None, int]:
        from contextrecall.generation import file_generation

        current = file_generation(self.generation_path)
        if not os.path.exists(self.path):
            return None, current
        stamp = self.meta("stamp")
        return (int(stamp) if stamp is not None else None), current

    def meta(self, field: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE field = ?", [field])
        return rows[0][0] if rows else None

    def frequencies(self, wanted: Sequence[str]) -> dict[str, int]:
        marks = ",".join("?" * len(wanted))
        return dict(self._rows(f"SELECT term, n FROM df WHERE term IN ({marks})", wanted))

    def postings(self, kind: str, words: Sequence[str]) -> tuple[dict[str, list[int]], set[int]]:
        marks = ",".join("?" * len(words))
        rows = self._rows(
            f"SELECT word, docnos FROM post WHERE kind = ? AND word IN ({marks})", [kind, *words]
        )
        dead = self._rows("SELECT docnos FROM dead WHERE kind = ?", [kind])
        return {word: unpack(value) for word, value in rows}, set(
            unpack(dead[0][0]) if dead else []
        )

    def newest(self, kind: str, count: int) -> list[int]:
        rows = self._rows(
            "SELECT docno FROM new WHERE kind = ? ORDER BY at DESC, docno DESC LIMIT ?",
            [kind, count],
        )
        return [docno for (docno,) in rows]

    def _lookup(self, select: str, keys: Sequence[Any]) -> dict[Any, Any]:
        """``select`` ("SELECT key, value FROM t WHERE key IN") over ``keys``, as a dict."""
        found: dict[Any, Any] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            found.update(self._rows(f"{select} ({','.join('?' * len(chunk))})", chunk))
        return found

    def records(self, docnos: Sequence[int]) -> list[bytes | None]:
        found = self._lookup("SELECT docno, value FROM rec WHERE docno IN", docnos)
        return [found.get(d) for d in docnos]

    def turns(self, fields: Sequence[str]) -> list[int | None]:
        found = self._lookup("SELECT field, docno FROM turn WHERE field IN", fields)
        return [found.get(f) for f in fields]

    # -- writing (the worker) -------------------------------------------------------------

    def _writer(self, path: str | None = None):
        import sqlite3

        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        db = sqlite3.connect(path or self.path, timeout=30)
        db.executescript(_SCHEMA)
        return db

    def docnos(self, ids: Sequence[str]) -> dict[str, int]:
        target = getattr(self, "building", None) or self.path
        if not ids or not os.path.exists(target):
            return {}
        db = self._writer(target)
        try:
            found: dict[str, int] = {}
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                found.update(db.execute(f"SELECT id, docno FROM ids WHERE id IN ({marks})", chunk))
            return found
        finally:
            db.close()

    def start_build(self) -> None:
        self.building = f"{self.path}.{os.getpid()}.{os.urandom(4).hex()}.new"

    def write(self, changes: Changes) -> None:
        db = self._writer(getattr(self, "building", None))
        try:
            with db:
                _write_rows(db, changes)
        finally:
            db.close()

    def switch(self) -> None:
        os.replace(self.building, self.path)
        del self.building

    def delete(self) -> None:
        for path in (self.path,):
            if os.path.exists(path):
                os.remove(path)

    def size(self) -> int:
        return os.path.getsize(self.path) if os.path.exists(self.path) else 0


def _write_rows(db, changes: Changes) -> None:
    db.executemany("INSERT OR REPLACE INTO rec VALUES (?, ?)", changes.records.items())
    db.executemany("INSERT OR REPLACE INTO ids VALUES (?, ?)", changes.ids.items())
    db.executemany("INSERT OR REPLACE INTO turn VALUES (?, ?)", changes.turns.items())
    db.executemany(
        "INSERT INTO post VALUES (?, ?, ?) ON CONFLICT (kind, word) "
        "DO UPDATE SET docnos = docnos || excluded.docnos",
        ((kind, word, pack(d)) for (kind, word), d in changes.postings.items()),
    )
    db.executemany(
        "INSERT INTO dead VALUES (?, ?) ON CONFLICT (kind) "
        "DO UPDATE SET docnos = docnos || excluded.docnos",
        ((kind, pack(d)) for kind, d in changes.dead.items()),
    )
    for kind, docnos in changes.dropped_newest.items():
        db.executemany("DELETE FROM new WHERE kind = ? AND docno = ?", ((kind, d) for d in docnos))
    for kind, scored in changes.newest.items():
        db.executemany(
            "INSERT OR REPLACE INTO new VALUES (?, ?, ?)",
            ((kind, docno, at) for docno, at in scored.items()),
        )
    db.executemany("INSERT OR REPLACE INTO df VALUES (?, ?)", changes.frequencies.items())
    db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", changes.meta.items())


def open_index(settings, identity: str, reader: bool = True) -> RedisIndex | FileIndex:
    """The project's index where this configuration keeps it (see ``RedisIndex``)."""
    from contextrecall.generation import project_namespace

    namespace = project_namespace(identity)
    if settings.cache_url:
        return RedisIndex(RedisAddress.parse(settings.cache_url), namespace, reader)
    return FileIndex(settings.location("index"), namespace)


__all__ = ["Changes", "FileIndex", "RedisIndex", "RedisWireError", "open_index"]
