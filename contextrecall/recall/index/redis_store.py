"""A project's recall index in Redis (what it holds: ``store``): records compressed a block
at a time, postings, term counts and ids in small bucketed hashes, read by the hook over the
broker's own wire client."""

from __future__ import annotations

import json
import os
import zlib

from contextrecall.broker.redis_wire import RedisAddress, resp_command
from contextrecall.recall.index.format import (
    FORMAT,
    ORDER_BYTES,
    Changes,
    deflate,
    encode_save,
    inflate,
    pack,
    unpack,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

TIMEOUT = 0.3  # seconds for the hook's reads; slower reads fall back to the database
WRITE_TIMEOUT = 30.0
BUCKET_FIELDS = 64  # term counts, postings or ids per hash, as a build sizes them
BUCKETS = ("df_buckets", "post_buckets", "item_buckets")
BLOCK = 8  # records compressed together in Redis: short chat turns share their words
BATCH = 2000  # commands per pipeline when writing


def bucket(field: str | bytes, buckets: int) -> int:
    """The hash of ``buckets`` that holds ``field`` (the same on every machine)."""
    if buckets <= 1:
        return 0
    return zlib.crc32(field.encode() if isinstance(field, str) else field) % buckets


def compact_id(id: str) -> bytes:
    """A memory id as the index's key: a UUID's 16 bytes, any other id as it is."""
    try:
        return bytes.fromhex(id.replace("-", "")) if len(id) == 36 else id.encode()
    except ValueError:
        return id.encode()


def _line(block: bytes, lead: bytes) -> bytes | None:
    """The rest of the line of ``block`` (lines between newlines) that starts with ``lead``:
    one record, found without splitting the others (records are JSON: no raw newline)."""
    start = block.find(lead)
    if start < 0:
        return None
    start += len(lead)
    return block[start : block.index(b"\n", start)]


# Appends postings in Redis (those of a common word are not sent back and forth): a short
# list stays a field of the bucket hash KEYS[1] (Redis keeps small hashes compact); one that
# outgrows OWN_AFTER bytes moves to a key of its own, ARGV[1] .. word.
OWN_AFTER = 48
_APPEND_POSTINGS = f"""
for i = 2, #ARGV, 2 do
  local word, added = ARGV[i], ARGV[i + 1]
  local own = ARGV[1] .. word
  if redis.call('EXISTS', own) == 1 then
    redis.call('APPEND', own, added)
  else
    local held = (redis.call('HGET', KEYS[1], word) or '') .. added
    if #held > {OWN_AFTER} then
      redis.call('HDEL', KEYS[1], word)
      redis.call('SET', own, held)
    else
      redis.call('HSET', KEYS[1], word, held)
    end
  end
end
return 0
"""


# The order keys of the docnos packed in ARGV[1], concatenated (zeros for one not written).
_ORDER_KEYS = f"""
local size, out = {ORDER_BYTES}, {{}}
for i = 1, #ARGV[1], 4 do
  local docno = struct.unpack('<I4', ARGV[1], i)
  local key = redis.call('GETRANGE', KEYS[1], docno * size, docno * size + size - 1)
  if #key < size then key = string.rep('\\0', size) end
  out[#out + 1] = key
end
return table.concat(out)
"""


class RedisIndex:
    """A project's index in Redis, under ``recall:ix:<namespace>:<build>:``; the key
    ``recall:ix:<namespace>`` names the current build, so a rebuild switches at once."""

    def __init__(
        self, address: RedisAddress, namespace: str, generation_key: str, reader: bool = True
    ) -> None:
        """A ``reader`` (the hook) keeps one connection for all its reads, within ``TIMEOUT``
        seconds in all; a writer (the worker) connects for each pipeline."""
        self.address, self.namespace, self.reader = address, namespace, reader
        self.generation_key = generation_key  # where saves count the project's generation
        self.pointer = f"recall:ix:{namespace}"
        self.prefix: str | None = None
        self.connection = None
        # Term counts and postings sit in hashes of about 64 fields (small hashes are kept
        # compact by Redis, where a key each would cost ~100 bytes): how many of each.
        self.buckets: tuple[int, ...] = (1, 1, 1)

    # -- reading (the hook) ---------------------------------------------------------------

    def _pipe(self, commands: list[bytes]) -> list[Any]:
        if self.connection is None:
            self.connection = self.address.connect(TIMEOUT if self.reader else WRITE_TIMEOUT)
        return self.connection.pipe(commands)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def open(self) -> tuple[int | None, int]:
        """(the index's stamp or None when there is none, the project's generation)."""
        generation, build = self._pipe([resp_command("MGET", self.generation_key, self.pointer)])[0]
        current = int(generation or 0)
        if build is None:
            return None, current
        self.prefix = f"{self.pointer}:{build.decode()}:"
        ((stamp, layout, *sizes),) = self._pipe(
            [resp_command("HMGET", self.prefix + "meta", "stamp", "format", *BUCKETS)]
        )
        self.buckets = tuple(int(size or 1) for size in sizes)
        self.stamp = int(stamp) if stamp is not None and layout == FORMAT.encode() else None
        return self.stamp, current

    def meta(self, *fields: str) -> str | None:
        """The meta field (a list of them, for several)."""
        ((*values,),) = self._pipe([resp_command("HMGET", self.prefix + "meta", *fields)])
        found = [value.decode() if value is not None else None for value in values]
        return found if len(fields) > 1 else found[0]

    def frequencies(self, wanted: Sequence[str]) -> dict[str, int]:
        if not wanted:
            return {}
        found = self._fields("df", self.buckets[0], wanted)
        return {t: int(v) for t, v in found.items()}

    def _fields(self, name: str, buckets: int, fields: Sequence[Any]) -> dict[Any, bytes]:
        """The values of ``fields`` in the bucketed hashes ``name:<bucket>``, found ones."""
        grouped: dict[int, list[Any]] = {}
        for field in fields:
            grouped.setdefault(bucket(field, buckets), []).append(field)
        replies = self._pipe(
            [resp_command("HMGET", f"{self.prefix}{name}:{b}", *f) for b, f in grouped.items()]
        )
        found = {}
        for names, values in zip(grouped.values(), replies, strict=True):
            found.update((f, v) for f, v in zip(names, values, strict=True) if v is not None)
        return found

    def postings(self, kind: str, words: Sequence[str]) -> tuple[dict[str, list[int]], set[int]]:
        """Docnos holding each word, and the dead docnos of ``kind``."""
        found = self._fields(f"p:{kind}", self.buckets[1], words)
        *own, dead = self._pipe(
            [resp_command("GET", f"{self.prefix}P:{kind}:{word}") for word in words]
            + [resp_command("GET", f"{self.prefix}dead:{kind}")]
        )
        found.update((word, value) for word, value in zip(words, own, strict=True) if value)
        return {word: unpack(value) for word, value in found.items()}, set(unpack(dead or b""))

    def odd(self, kind: str) -> set[int]:
        """The docnos of ``kind`` out of rank order."""
        (found,) = self._pipe([resp_command("GET", f"{self.prefix}odd:{kind}")])
        return set(unpack(found or b""))

    def newest(self, kind: str, count: int) -> list[int]:
        """The ``count`` newest docnos of ``kind``: by time, then id (members are "id docno",
        and Redis orders equal scores by member), as the database orders them."""
        (values,) = self._pipe(
            [resp_command("ZREVRANGE", f"{self.prefix}new:{kind}", "0", str(count - 1))]
        )
        return [int(v.rpartition(b" ")[2]) for v in values]

    def records(self, docnos: Sequence[int]) -> list[bytes | None]:
        """The records of ``docnos`` (None for one that is not there)."""
        blocks = {d // BLOCK: b"" for d in docnos}
        values = self._block_values(blocks)
        for block, value in zip(blocks, values, strict=True):
            blocks[block] = b"\n" + inflate(value) + b"\n" if value else b""
        return [_line(blocks[d // BLOCK], b"\n%d\t" % d) for d in docnos]

    def _block_values(self, blocks: Iterable[int]) -> list[bytes | None]:
        wanted = [str(b) for b in blocks]
        if not wanted:
            return []
        (values,) = self._pipe([resp_command("HMGET", self.prefix + "rec", *wanted)])
        return values

    def _blocks(self, blocks: Iterable[int]) -> dict[int, bytes]:
        """Every record in these blocks, by docno."""
        return {
            int(docno): record
            for value in self._block_values(blocks)
            if value
            for docno, _, record in (line.partition(b"\t") for line in inflate(value).split(b"\n"))
        }

    def order_keys(self, docnos: Sequence[int]) -> list[bytes]:
        """How the memories of ``docnos`` sort among equals (``order_key``): twelve bytes
        each, at the docno's place in one string, so picking among equals needs no record.
        Read by one script in Redis: a common word may tie thousands."""
        if not docnos:
            return []
        size = ORDER_BYTES
        (found,) = self._pipe(
            [resp_command("EVAL", _ORDER_KEYS, "1", self.prefix + "at", pack(list(docnos)))]
        )
        return [found[n : n + size] for n in range(0, len(found), size)]

    def turns(self, fields: Sequence[str]) -> list[int | None]:
        if not fields:
            return []
        found = self._fields("turn", self.buckets[2], fields)
        return [int(found[f]) if f in found else None for f in fields]

    # -- writing (the worker) -------------------------------------------------------------

    def docnos(self, ids: Sequence[str]) -> dict[str, int]:
        if not ids:
            return {}
        keys = {compact_id(i): i for i in ids}
        found = self._fields("ids", self.buckets[2], list(keys))
        return {keys[k]: int(v) for k, v in found.items()}

    def _record_blocks(self, records: dict[int, str]) -> list[bytes]:
        """HSETs of the record blocks ``records`` change, with the records they hold already."""
        touched = {d // BLOCK for d in records}
        held = self._blocks(touched)
        held.update((d, r.encode()) for d, r in records.items())
        grouped: dict[int, list[bytes]] = {}
        for docno in sorted(held):
            grouped.setdefault(docno // BLOCK, []).append(b"%d\t%s" % (docno, held[docno]))
        return [
            resp_command("HSET", self.prefix + "rec", str(block), deflate(b"\n".join(lines)))
            for block, lines in grouped.items()
        ]

    def mark_building(self) -> bool:
        """Claim the project's rebuild (False when another one is under way); saves synced
        meanwhile are kept on its "pending" list (``push``)."""
        claimed, _ = self._pipe(
            [
                resp_command("SET", self.pointer + ":building", "1", "NX", "EX", "3600"),
                resp_command("DEL", self.pointer + ":pending"),
            ]
        )
        return claimed is not None

    def is_building(self) -> bool:
        (found,) = self._pipe([resp_command("EXISTS", self.pointer + ":building")])
        return bool(found)

    def push(self, name: str, generation: int | None, ids: Mapping[str, Sequence[str]]) -> None:
        """Keep the save of ``generation`` that wrote ``ids`` ({table name: ids}) on the list
        ``name``: "queue" (saves the index has yet to take in) or "pending" (those a rebuild
        must add)."""
        self._pipe([resp_command("RPUSH", f"{self.pointer}:{name}", encode_save(generation, ids))])

    def take(self, name: str) -> list[tuple[int | None, dict[str, list[str]]]]:
        """Every save on the list ``name``, which is left empty (at once: MULTI)."""
        key = f"{self.pointer}:{name}"
        replies = self._pipe(
            [
                resp_command("MULTI"),
                resp_command("LRANGE", key, "0", "-1"),
                resp_command("DEL", key),
                resp_command("EXEC"),
            ]
        )
        return [tuple(json.loads(entry)) for entry in replies[-1][0]]

    def waiting(self, name: str) -> bool:
        (count,) = self._pipe([resp_command("LLEN", f"{self.pointer}:{name}")])
        return bool(count)

    def release_building(self) -> None:
        self._pipe([resp_command("DEL", self.pointer + ":building", self.pointer + ":pending")])

    def start_build(self, terms: int, items: int) -> None:
        """Point writes at a new, empty build (the current one stays readable), its hashes
        sized for about ``terms`` terms and ``items`` memories."""
        self.prefix = f"{self.pointer}:{os.urandom(6).hex()}:"
        counts = tuple(max(1, n // BUCKET_FIELDS) for n in (terms, terms, items))
        self.buckets = counts
        sizes = [part for name, n in zip(BUCKETS, counts, strict=True) for part in (name, str(n))]
        self._pipe([resp_command("HSET", self.prefix + "meta", *sizes)])

    def write(self, changes: Changes) -> None:
        p = self.prefix
        commands = self._record_blocks(changes.records)
        commands += [
            resp_command("SETRANGE", p + "at", str(d * ORDER_BYTES), key)
            for d, key in changes.order_keys.items()
        ]
        places: dict[str, list[bytes | str]] = {}
        for id, docno in changes.ids.items():
            key = compact_id(id)
            places.setdefault(f"{p}ids:{bucket(key, self.buckets[2])}", []).extend(
                (key, str(docno))
            )
        for field, docno in changes.turns.items():
            place = f"{p}turn:{bucket(field, self.buckets[2])}"
            places.setdefault(place, []).extend((field, str(docno)))
        commands += [resp_command("HSET", key, *pairs) for key, pairs in places.items()]
        appends: dict[tuple[str, str], list[bytes]] = {}
        for (kind, word), docnos in changes.postings.items():
            key = f"{p}p:{kind}:{bucket(word, self.buckets[1])}"
            appends.setdefault((key, kind), []).extend((word.encode(), pack(docnos)))
        commands += [
            resp_command("EVAL", _APPEND_POSTINGS, "1", key, f"{p}P:{kind}:", *pairs)
            for (key, kind), pairs in appends.items()
        ]
        commands += [
            resp_command("APPEND", f"{p}{name}:{kind}", pack(docnos))
            for name, lists in (("dead", changes.dead), ("odd", changes.odd))
            for kind, docnos in lists.items()
        ]
        for kind, dropped in changes.dropped_newest.items():
            members = [f"{id} {docno}" for docno, id in dropped]
            commands.append(resp_command("ZREM", f"{p}new:{kind}", *members))
        for kind, scored in changes.newest.items():
            for docno, (at, id) in scored.items():
                commands.append(resp_command("ZADD", f"{p}new:{kind}", repr(at), f"{id} {docno}"))
        counts: dict[str, list[str]] = {}
        for term, count in changes.frequencies.items():
            counts.setdefault(f"{p}df:{bucket(term, self.buckets[0])}", []).extend(
                (term, str(count))
            )
        commands += [resp_command("HSET", key, *pairs) for key, pairs in counts.items()]
        if changes.meta:  # last: the stamp says the rest is in
            pairs = [part for pair in changes.meta.items() for part in pair]
            commands.append(resp_command("HSET", p + "meta", *pairs))

        for start in range(0, len(commands), BATCH):
            self._pipe(commands[start : start + BATCH])

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
