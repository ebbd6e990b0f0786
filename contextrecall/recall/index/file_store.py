"""A project's recall index in a local SQLite file (the embedded default, no Redis): a table
for each part ``store`` lists, read by the hook through the standard library's sqlite3."""

from __future__ import annotations

import json
import os
import time

from contextrecall.recall.index.format import FORMAT, Changes, encode_save, pack, unpack

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (field TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS rec (docno INTEGER PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS ids (id TEXT PRIMARY KEY, docno INTEGER);
CREATE TABLE IF NOT EXISTS turn (field TEXT PRIMARY KEY, docno INTEGER);
CREATE TABLE IF NOT EXISTS post (kind TEXT, word TEXT, docnos BLOB, PRIMARY KEY (kind, word));
CREATE TABLE IF NOT EXISTS dead (kind TEXT PRIMARY KEY, docnos BLOB);
CREATE TABLE IF NOT EXISTS odd (kind TEXT PRIMARY KEY, docnos BLOB);
CREATE TABLE IF NOT EXISTS new (kind TEXT, docno INTEGER, at REAL, id TEXT,
    PRIMARY KEY (kind, docno));
CREATE INDEX IF NOT EXISTS new_at ON new (kind, at, id);
CREATE TABLE IF NOT EXISTS df (term TEXT PRIMARY KEY, n INTEGER);
CREATE TABLE IF NOT EXISTS at (docno INTEGER PRIMARY KEY, moment BLOB);
"""


class FileIndex:
    """A project's index in a SQLite file under ``$RECALL_HOME/index/`` (the embedded
    default, no Redis); a rebuild writes a new file and renames it over the old one."""

    def __init__(self, folder: str, namespace: str) -> None:
        self.path = os.path.join(folder, f"{namespace}.sqlite")
        self.generation_path = os.path.join(folder, f"{namespace}.generation")
        self.new_path: str | None = None  # the file a rebuild writes
        self._db = None
        self._writing: tuple[str, Any] | None = None  # (path, connection)

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
        stamp, layout = self.meta("stamp", "format")
        self.stamp = int(stamp) if stamp is not None and layout == FORMAT else None
        return self.stamp, current

    def meta(self, *fields: str) -> str | None:
        """The meta field (a list of them, for several)."""
        marks = ",".join("?" * len(fields))
        found = dict(self._rows(f"SELECT field, value FROM meta WHERE field IN ({marks})", fields))
        values = [found.get(field) for field in fields]
        return values if len(fields) > 1 else values[0]

    def frequencies(self, wanted: Sequence[str]) -> dict[str, int]:
        marks = ",".join("?" * len(wanted))
        return dict(self._rows(f"SELECT term, n FROM df WHERE term IN ({marks})", wanted))

    def postings(self, kind: str, words: Sequence[str]) -> tuple[dict[str, list[int]], set[int]]:
        marks = ",".join("?" * len(words))
        rows = self._rows(
            f"SELECT word, docnos FROM post WHERE kind = ? AND word IN ({marks})", [kind, *words]
        )
        return {word: unpack(value) for word, value in rows}, self._listed("dead", kind)

    def odd(self, kind: str) -> set[int]:
        return self._listed("odd", kind)

    def _listed(self, table: str, kind: str) -> set[int]:
        found = self._rows(f"SELECT docnos FROM {table} WHERE kind = ?", [kind])
        return set(unpack(found[0][0]) if found else [])

    def newest(self, kind: str, count: int) -> list[int]:
        rows = self._rows(
            "SELECT docno FROM new WHERE kind = ? ORDER BY at DESC, id DESC LIMIT ?",
            [kind, count],
        )
        return [docno for (docno,) in rows]

    def _lookup(self, select: str, keys: Sequence[Any], db: Any = None) -> dict[Any, Any]:
        """``select`` ("SELECT key, value FROM t WHERE key IN") over ``keys``, as a dict, on
        ``db`` (the index read, by default)."""
        found: dict[Any, Any] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            sql = f"{select} ({','.join('?' * len(chunk))})"
            found.update(db.execute(sql, chunk).fetchall() if db else self._rows(sql, chunk))
        return found

    def records(self, docnos: Sequence[int]) -> list[bytes | None]:
        found = self._lookup("SELECT docno, value FROM rec WHERE docno IN", docnos)
        return [found.get(d) for d in docnos]

    def order_keys(self, docnos: Sequence[int]) -> list[bytes]:
        """The order keys of ``docnos``: during a rebuild, of the file it writes (where
        ``docnos`` found them), not of the index it replaces, which may not exist yet."""
        select = "SELECT docno, moment FROM at WHERE docno IN"
        found = self._lookup(select, docnos, self._writer() if self.new_path else None)
        return [found.get(d, b"") for d in docnos]

    def turns(self, fields: Sequence[str]) -> list[int | None]:
        found = self._lookup("SELECT field, docno FROM turn WHERE field IN", fields)
        return [found.get(f) for f in fields]

    # -- writing (the worker) -------------------------------------------------------------

    def _writer(self):
        """The connection that writes the file a rebuild is writing, else the index's own;
        one per object, which the worker holds only under the index lock, so a rebuild
        cannot rename a file over it meanwhile."""
        path = self.new_path or self.path
        if self._writing is None or self._writing[0] != path:
            import sqlite3

            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            db = sqlite3.connect(path, timeout=30)
            db.executescript(_SCHEMA)
            self._writing = (path, db)
        return self._writing[1]

    def docnos(self, ids: Sequence[str]) -> dict[str, int]:
        if not ids or not os.path.exists(self.new_path or self.path):
            return {}
        db = self._writer()
        found: dict[str, int] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            found.update(db.execute(f"SELECT id, docno FROM ids WHERE id IN ({marks})", chunk))
        return found

    def mark_building(self) -> bool:
        """As ``RedisIndex.mark_building``: a marker file (taken over after an hour)."""
        marker = self.path + ".building"
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        try:
            if time.time() - os.path.getmtime(marker) > 3600:
                os.remove(marker)
        except OSError:
            pass
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return False
        with open(self.path + ".pending", "w"):
            pass
        return True

    def is_building(self) -> bool:
        return os.path.exists(self.path + ".building")

    def push(self, name: str, generation: int | None, ids: Mapping[str, Sequence[str]]) -> None:
        """As ``RedisIndex.push``: a line appended to a file, under its lock."""
        import fcntl

        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(f"{self.path}.{name}", "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(encode_save(generation, ids) + "\n")

    def take(self, name: str) -> list[tuple[int | None, dict[str, list[str]]]]:
        import fcntl

        try:
            handle = open(f"{self.path}.{name}", "r+", encoding="utf-8")  # noqa: SIM115
        except FileNotFoundError:
            return []
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            entries = [tuple(json.loads(line)) for line in handle if line.strip()]
            handle.seek(0)
            handle.truncate()
        return entries

    def waiting(self, name: str) -> bool:
        try:
            return os.path.getsize(f"{self.path}.{name}") > 0
        except OSError:
            return False

    def release_building(self) -> None:
        for path in (self.path + ".pending", self.path + ".building"):
            try:
                os.remove(path)
            except FileNotFoundError:
                continue

    def start_build(self, terms: int, items: int) -> None:
        self.new_path = f"{self.path}.{os.getpid()}.{os.urandom(4).hex()}.new"

    def write(self, changes: Changes) -> None:
        with self._writer() as db:  # one transaction
            _write_rows(db, changes)

    def switch(self) -> None:
        os.replace(self.new_path, self.path)
        self.new_path = None
        self._writing = None

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
    db.executemany("INSERT OR REPLACE INTO at VALUES (?, ?)", changes.order_keys.items())
    # appended in Python: SQLite's || reads blobs as text
    for (kind, word), docnos in changes.postings.items():
        held = db.execute("SELECT docnos FROM post WHERE kind = ? AND word = ?", (kind, word))
        before = (held.fetchone() or (b"",))[0]
        db.execute(
            "INSERT OR REPLACE INTO post VALUES (?, ?, ?)", (kind, word, before + pack(docnos))
        )
    for table, lists in (("dead", changes.dead), ("odd", changes.odd)):
        for kind, docnos in lists.items():
            held = db.execute(f"SELECT docnos FROM {table} WHERE kind = ?", (kind,))
            before = (held.fetchone() or (b"",))[0]
            added = (kind, before + pack(docnos))
            db.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", added)
    for kind, dropped in changes.dropped_newest.items():
        db.executemany(
            "DELETE FROM new WHERE kind = ? AND docno = ?", ((kind, d) for d, _ in dropped)
        )
    for kind, scored in changes.newest.items():
        db.executemany(
            "INSERT OR REPLACE INTO new VALUES (?, ?, ?, ?)",
            ((kind, docno, at, id) for docno, (at, id) in scored.items()),
        )
    db.executemany("INSERT OR REPLACE INTO df VALUES (?, ?)", changes.frequencies.items())
    db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", changes.meta.items())
