"""Keeping each project's recall index in step with the database (the worker's side).

After a save commits and bumps the project's generation, ``sync`` adds what the save wrote to
the index and stamps it with that generation. ``rebuild`` writes a whole new index from the
database (the system of record) and switches to it; the worker does so by itself when an
index is missing or stale, and ``recall index rebuild`` on demand.

The stamp only moves over generations whose saves are all in: a save that bumped the
generation but never synced (a worker killed in between) leaves the index stale until a
rebuild, so a hook never reads an index that lacks committed memory as if it were current.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime

from celery.signals import worker_ready
from sqlalchemy import func, select, true
from sqlalchemy.orm import Session as DBSession

from contextrecall.generation import (
    cache_address,
    file_generation,
    generation_file,
    generation_key,
    project_namespace,
)
from contextrecall.memory_signals import REMOVED, memory_changed, memory_saved
from contextrecall.models import Project, TermCount
from contextrecall.recall.answer import DECISION, MAX_OUTPUT_CHARS, SESSION, SNIPPET
from contextrecall.recall.index.file_store import FileIndex
from contextrecall.recall.index.format import (
    FORMAT,
    Changes,
    encode,
    kind_of,
    order_key,
    order_place,
    ranks_above,
    turn_field,
)
from contextrecall.recall.index.redis_store import BUCKET_FIELDS, RedisIndex
from contextrecall.recall.index.store import index_kept, open_index
from contextrecall.recall.loading import TABLES, DatabaseSource
from contextrecall.recall.ranking import Item, found_by
from contextrecall.recall.session_start import start_and_resume
from contextrecall.settings import Settings, get_settings
from contextrecall.terms import counted_terms

log = logging.getLogger(__name__)
LOCK_SECONDS = 120.0
BUILD_BATCH = 2000
KINDS = (SESSION, DECISION, SNIPPET)
ODD_AT_MOST = 1000  # odd docnos an index may gather (or a tenth of all) before it is rebuilt


def current_generation(settings: Settings, identity: str) -> int:
    address = cache_address(settings)
    if address is None:
        return file_generation(generation_file(settings, identity))
    (value,) = address.mget([generation_key(identity)], 1.0)
    return int(value or 0)


def _until(attempt: Callable[[], bool], wait: float) -> bool:
    """Call ``attempt`` until it succeeds or ``wait`` seconds have passed; whether it did."""
    deadline = time.monotonic() + wait
    while not attempt():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@contextmanager
def index_lock(settings: Settings, identity: str, wait: float) -> Iterator[bool]:
    """Hold the project's index lock (yields False when not had within ``wait`` seconds):
    a lock file on the embedded default, a Redis key (with a token and an expiry) beside a
    cache, which writers on every machine share."""
    namespace = project_namespace(identity)
    address = cache_address(settings)
    if address is None:
        import fcntl

        folder = settings.location("index")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{namespace}.lock"), "a") as handle:

            def attempt() -> bool:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    return False

            if not _until(attempt, wait):
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    from contextrecall.broker.redis_wire import resp_command

    key, token = f"recall:ixlock:{namespace}", os.urandom(8).hex()
    claim = resp_command("SET", key, token, "NX", "PX", str(int(LOCK_SECONDS * 1000)))
    if not _until(lambda: address.call([claim], 1.0)[0].startswith(b"+OK"), wait):
        yield False
        return
    try:
        yield True
    finally:
        release = (
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
            "end return 0"
        )
        address.call([resp_command("EVAL", release, "1", key, token)], 1.0)


def all_items(db: DBSession, project_id: str) -> Iterator[list[Item]]:
    """All of the project's items in batches, each kind in (time, id) order, so docnos grow
    with time as the database orders its items."""
    source = DatabaseSource(db, project_id)
    for kind in KINDS:
        table = TABLES[kind]
        after = None
        while True:
            where = true()
            if after is not None:
                moment, last = after
                where = (table.time > moment) | ((table.time == moment) & (table.model.id > last))
            batch = source.items(kind, where, (table.time, table.model.id), BUILD_BATCH)
            if batch:
                yield batch
            if len(batch) < BUILD_BATCH:
                break
            after = (batch[-1].created_at, batch[-1].id)


Saved = list[tuple[int | None, dict[str, list[str]]]]  # (generation, {table name: ids})


def items_by_id(db: DBSession, project_id: str, saves: Saved) -> list[Item]:
    """The project's items that ``saves`` wrote (those still there), each kind in (time, id)
    order."""
    source = DatabaseSource(db, project_id)
    found: list[Item] = []
    for kind in KINDS:
        model = TABLES[kind].model
        unique = sorted({i for _, ids in saves for i in ids.get(model.__tablename__, ())})
        items: list[Item] = []
        for start in range(0, len(unique), 500):
            items += source.items(kind, model.id.in_(unique[start : start + 500]))
        items.sort(key=lambda i: (i.created_at or datetime.min, i.id))
        found += items
    return found


def changes_of(
    items: Sequence[Item],
    known: dict[str, tuple[int, bytes]],
    next_docno: int,
    placed: dict[str, str],
) -> tuple[Changes, int]:
    """What adding ``items`` (each kind in rank order, the least first) writes, docnos
    numbered from ``next_docno``: a snippet or a decision already indexed (``known``: its
    docno and order key) is written again in place (its use changed), a session summary
    (rewritten as its session grows) gets a new docno and the old one is dead.

    ``placed`` holds, per kind, the ``order_place`` of the greatest docno in rank order; an
    item that does not rank above it (saved out of time order), or whose time changed in
    place, is listed odd."""
    changes = Changes()
    for item in items:
        kind = kind_of(item)
        old, held = known.get(item.id, (None, b""))
        key = order_key(item)
        if old is not None and kind != SESSION:
            changes.records[old] = encode(item)
            if key != held:
                changes.order_keys[old] = key
                changes.odd.setdefault(kind, []).append(old)
            continue
        docno = next_docno
        next_docno += 1
        if old is not None:
            changes.dead.setdefault(kind, []).append(old)
            changes.dropped_newest.setdefault(kind, []).append((old, item.id))
        if ranks_above(item, placed.get(kind)):
            placed[kind] = changes.meta[f"last:{kind}"] = order_place(item)
        else:
            changes.odd.setdefault(kind, []).append(docno)
        changes.records[docno] = encode(item)
        changes.order_keys[docno] = key
        changes.ids[item.id] = docno
        for word in found_by(item):
            changes.postings.setdefault((kind, word), []).append(docno)
        if item.position is not None:
            changes.turns[turn_field(item.session, item.part, item.position)] = docno
        if kind != SNIPPET:
            at = item.created_at.timestamp() if item.created_at else 0.0
            changes.newest.setdefault(kind, {})[docno] = (at, item.id)
    return changes, next_docno


def indexed_already(
    index: FileIndex | RedisIndex, items: Sequence[Item]
) -> dict[str, tuple[int, bytes]]:
    """The docno and order key of each of ``items`` the index holds, by id."""
    docnos = index.docnos([item.id for item in items])
    keys = index.order_keys(list(docnos.values()))
    return {id: (d, key) for (id, d), key in zip(docnos.items(), keys, strict=True)}


def _frequencies(db: DBSession, project_id: str, terms: set[str] | None) -> dict[str, int]:
    statement = select(TermCount.term, TermCount.documents).where(
        TermCount.project_id == project_id
    )
    if terms is None:
        return {term: count for term, count in db.execute(statement)}
    found: dict[str, int] = {}
    wanted = sorted(terms | {""})
    for start in range(0, len(wanted), 500):
        chunk = statement.where(TermCount.term.in_(wanted[start : start + 500]))
        found.update((term, count) for term, count in db.execute(chunk))
    return found


def _batch_changes(
    db: DBSession,
    index: FileIndex | RedisIndex,
    project_id: str,
    batch: Sequence[Item],
    next_docno: int,
    placed: dict[str, str],
    fresh: bool = False,
) -> tuple[Changes, int]:
    """What adding ``batch`` writes into ``index``, with the term counts it needs; the next
    docno. ``fresh``: a new build, which holds none of them yet and gets every count at
    its end."""
    known = {} if fresh else indexed_already(index, batch)
    changes, next_docno = changes_of(batch, known, next_docno, placed)
    if not fresh:
        # every term the store may have counted for these items (it counts snippets' terms)
        counted = {t for item in batch for t in counted_terms(item.title, item.text)}
        changes.frequencies = _frequencies(db, project_id, counted)
    changes.meta["next"] = str(next_docno)
    return changes, next_docno


def _add(
    db: DBSession,
    index: FileIndex | RedisIndex,
    project_id: str,
    batches: Iterable[list[Item]],
    next_docno: int,
    placed: dict[str, str],
    progress: Callable[[int], None] | None = None,
    fresh: bool = False,
) -> tuple[int, int]:
    """Write ``batches`` of the project's items into ``index``; the next docno, and how many
    docnos the writes listed odd."""
    odd = 0
    for batch in batches:
        changes, next_docno = _batch_changes(
            db, index, project_id, batch, next_docno, placed, fresh
        )
        index.write(changes)
        odd += sum(len(docnos) for docnos in changes.odd.values())
        if progress:
            progress(len(batch))
    return next_docno, odd


def _advance(stamp: int, generations: Iterable[int | None]) -> tuple[int, set[int]]:
    """The stamp moved over every synced generation that follows it without a gap, and the
    synced generations still waiting for one."""
    synced = {g for g in generations if g is not None and g > stamp}
    while stamp + 1 in synced:
        stamp += 1
        synced.discard(stamp)
    return stamp, synced


START_EVERY = 1.0  # seconds: a busy project renders its session-start block at most this often


def _stamp(
    settings: Settings,
    identity: str,
    stamp: int,
    synced: set[int],
    next_docno: int,
    start_at: float | None = None,
) -> Changes:
    """The meta fields that close a write, the stamp last. The session-start block is
    rendered again unless one was rendered less than ``START_EVERY`` ago (``start_at``); a
    hook uses it only while it was rendered at the index's stamp, and the keeper renders one
    that lags."""
    changes = Changes()
    changes.meta = {"next": str(next_docno), "synced": ",".join(str(g) for g in sorted(synced))}
    if start_at is None or time.time() - start_at >= START_EVERY:
        changes.meta.update(
            _rendered(settings, identity),
            start_stamp=str(stamp),
            start_at=str(time.time()),
        )
    changes.meta["stamp"] = str(stamp)  # last: written with the rest at once
    return changes


def _rendered(settings: Settings, identity: str) -> dict[str, str]:
    """The session-start block and the resume text a hook reads from the index's meta."""
    start, resume = start_and_resume(settings, identity)
    return {"start": start[:MAX_OUTPUT_CHARS], "resume": resume}


def refresh_start(settings: Settings, identity: str) -> bool:
    """Render the session-start block of a current index whose block lags; True if done."""
    with index_lock(settings, identity, wait=0) as held:
        if not held:
            return False
        index = open_index(settings, identity, reader=False)
        stamp, current = index.open()
        if stamp is None or stamp != current or index.meta("start_stamp") == str(stamp):
            return False
        changes = Changes()
        changes.meta = {
            **_rendered(settings, identity),
            "start_stamp": str(stamp),
            "start_at": str(time.time()),
        }
        index.write(changes)
        return True


def retire_removed(index: FileIndex | RedisIndex, saves: Saved, changes: Changes) -> None:
    """The snippets ``saves`` took back (partial exchanges they completed) are no longer
    found: their docnos go dead with ``changes``."""
    removed = sorted({i for _, ids in saves for i in ids.get(REMOVED, ())})
    if removed:
        changes.dead.setdefault(SNIPPET, []).extend(index.docnos(removed).values())


def sync(settings: Settings, db: DBSession, identity: str, project_id: str) -> str:
    """Take the project's queued saves into its index in one write, and count their
    generations as synced: "synced"; "missing" when there is no index (a rebuild makes one),
    "building" when only a rebuild under way will hold them, "locked" when another process
    holds the index (it takes the queue in before it lets go)."""
    with index_lock(settings, identity, wait=0) as held:
        if not held:
            return "locked"
        index = open_index(settings, identity, reader=False)
        saves = index.take("queue")
        if not saves:
            return "synced"
        building = index.is_building()
        if building:
            for generation, ids in saves:
                index.push("pending", generation, ids)
        stamp, _ = index.open()
        if stamp is None:
            return "building" if building else "missing"
        items = items_by_id(db, project_id, saves)
        next_docno, synced, start_at, *last = index.meta(
            "next", "synced", "start_at", *(f"last:{kind}" for kind in KINDS)
        )
        placed = {kind: place for kind, place in zip(KINDS, last, strict=True) if place}
        changes, next_docno = _batch_changes(
            db, index, project_id, items, int(next_docno or 0), placed
        )
        retire_removed(index, saves, changes)
        waiting = {int(g) for g in (synced or "").split(",") if g}
        stamp, waiting = _advance(stamp, [*waiting, *(g for g, _ in saves)])
        closing = _stamp(settings, identity, stamp, waiting, next_docno, float(start_at or 0))
        changes.meta.update(closing.meta)  # the stamp still last
        index.write(changes)
    return "synced"


SYNC_DELAY = 0.2  # seconds a save waits to be taken into the index with those around it


@memory_saved.connect
def after_save(
    sender: object = None,
    *,
    identity: str,
    ids: Mapping[str, Sequence[str]],
    generation: int | None,
    settings: Settings | None = None,
    now: bool = False,
    **_: object,
) -> None:
    """Queue a save that just committed for the project's index.

    In a worker, this process's syncer takes the queue in within ``SYNC_DELAY`` seconds, with
    every other save queued meanwhile, so a busy project pays for one sync per batch, not
    per save; until then the index is stale and reads go to the database. ``now`` syncs
    before returning (one-off saves, tests). A failure is logged, never raised: the index
    only makes recall faster."""
    settings = settings or get_settings()
    if not index_kept(settings):
        return
    try:
        open_index(settings, identity, reader=False).push("queue", generation, ids)
    except Exception as exc:
        log.warning("recall index of %s: save not queued: %s", identity, exc)
        return
    if now:
        drain(settings, identity)
    else:
        _syncer(settings).add(identity)


def drain(settings: Settings, identity: str, once: bool = False) -> bool:
    """Take the project's queued saves into its index (rebuilt when missing), until the
    queue stays empty or another process holds the index (it looks again once it lets go);
    ``once``: one sync only. Whether saves are still queued."""
    from contextrecall.db import session_scope

    try:
        with session_scope(settings) as db:
            project = db.scalar(select(Project).where(Project.identity == identity))
        if project is None:
            return False
        index = open_index(settings, identity, reader=False)
        while True:
            with session_scope(settings) as db:
                outcome = sync(settings, db, identity, project.id)
            if outcome == "missing":
                rebuild(settings, project)
            if outcome == "locked" or not index.waiting("queue"):
                return False
            if once:
                return True
    except Exception as exc:
        log.warning("recall index of %s not updated: %s", identity, exc)
        return False


class _Syncer:
    """A thread of this process that drains the queues of the projects it saved to."""

    def __init__(self, settings: Settings) -> None:
        import threading

        self.settings = settings
        self.dirty: set[str] = set()
        self.wake = threading.Condition()
        threading.Thread(target=self._run, name="recall-index-sync", daemon=True).start()

    def add(self, identity: str) -> None:
        with self.wake:
            self.dirty.add(identity)
            self.wake.notify()

    def _run(self) -> None:
        while True:
            with self.wake:
                while not self.dirty:
                    self.wake.wait()
            time.sleep(SYNC_DELAY)  # let the saves of this moment gather
            with self.wake:
                identities, self.dirty = self.dirty, set()
            for identity in identities:
                # saves that came during the sync wait for the next window, with the rest
                if drain(self.settings, identity, once=True):
                    self.add(identity)


_syncers: dict[tuple[int, str], _Syncer] = {}


def _syncer(settings: Settings) -> _Syncer:
    """This process's syncer (a forked worker child starts its own)."""
    key = (os.getpid(), settings.home.as_posix() + "|" + (settings.cache_url or ""))
    if key not in _syncers:
        _syncers[key] = _Syncer(settings)
    return _syncers[key]


def _state(settings: Settings, identity: str) -> tuple[int | None, int] | None:
    """(the index's stamp or None when missing, the project's generation); None when
    unreadable."""
    index = open_index(settings, identity, reader=False)
    try:
        return index.open()
    except Exception:
        return None


def is_fresh(settings: Settings, identity: str) -> bool:
    state = _state(settings, identity)
    return state is not None and state[0] is not None and state[0] == state[1]


def outgrown(index: FileIndex | RedisIndex, terms: int) -> bool:
    """Whether the project's terms have outgrown the hashes its index was built with (Redis
    keeps a hash compact up to 512 small fields): a rebuild sizes them again."""
    return isinstance(index, RedisIndex) and terms > 4 * BUCKET_FIELDS * index.buckets[0]


def disordered(index: FileIndex | RedisIndex) -> bool:
    """Whether so much memory was saved out of time order since the index was built that a
    common word's ties cost many reads (see ``store``): a rebuild numbers it all in
    order again. What the build itself listed odd does not count (a rebuild would list it
    again, were the database's order of ids ever not Python's)."""
    odd = sum(len(index.odd(kind)) for kind in KINDS)
    next_docno, built = index.meta("next", "odd_built")
    return odd - int(built or 0) > max(ODD_AT_MOST, int(next_docno or 0) // 10)


class Keeper:
    """Rebuilds, every ``every`` seconds, the project indexes that are missing, or stale
    with a stamp that has not moved since the last look (a save that never synced: the saves
    in flight move it)."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.every = settings, settings.index_check_seconds
        self.seen: dict[str, int | None] = {}

    def start(self, **_: object) -> None:
        import threading

        threading.Thread(target=self._run, name="recall-index-keeper", daemon=True).start()

    def _run(self) -> None:
        while True:  # a look at once: a worker starting may find saves left queued
            try:
                rebuilt = self.look()
                if rebuilt:
                    log.info("recall index rebuilt: %s", ", ".join(rebuilt))
            except Exception as exc:  # the database may be down for a while
                log.warning("recall index keeper: %s", exc)
            time.sleep(self.every)

    def look(self) -> list[str]:
        """Rebuild what needs it now; the names of the projects rebuilt."""
        from contextrecall.db import session_scope

        if not index_kept(self.settings):
            return []
        with session_scope(self.settings) as db:
            projects = list(db.scalars(select(Project)))
            counted = select(TermCount.project_id, func.count()).group_by(TermCount.project_id)
            terms = {project_id: count for project_id, count in db.execute(counted)}
        rebuilt = []
        for project in projects:
            index = open_index(self.settings, project.identity, reader=False)
            try:
                stamp, current = index.open()
            except Exception:
                continue
            stuck = stamp is not None and stamp != current and self.seen.get(project.id) == stamp
            self.seen[project.id] = stamp
            if index.waiting("queue"):  # saves a stopped worker had not taken in
                drain(self.settings, project.identity)
                stamp, current = index.open()
            if stamp is not None and stamp == current:
                refresh_start(self.settings, project.identity)
            if (
                stamp is None
                or stuck
                or outgrown(index, terms.get(project.id, 0))
                or (stamp == current and disordered(index))
            ):
                rebuild(self.settings, project)
                self.seen.pop(project.id, None)
                rebuilt.append(project.name)
        return rebuilt


@worker_ready.connect
def _keep_indexes(**_: object) -> None:
    Keeper(get_settings()).start()


@memory_changed.connect
def _rebuild_all(sender: object = None, **_: object) -> None:
    """Cleanup removed memory: each index is rebuilt (the old one serves until the new one
    is in), taking decay's latest scores with it."""
    try:
        rebuild_projects(get_settings())
    except Exception as exc:
        log.warning("recall indexes not rebuilt: %s", exc)


def rebuild(
    settings: Settings,
    project: Project,
    progress: Callable[[int], None] | None = None,
) -> bool:
    """A new index of the whole project from the database, switched to at once; False when
    another rebuild of it is under way, or no index is kept here. Saves synced while it runs
    are added before the switch, so none is missed."""
    from contextrecall.db import session_scope

    if not index_kept(settings):
        return False
    identity = project.identity
    index = open_index(settings, identity, reader=False)
    with index_lock(settings, identity, wait=LOCK_SECONDS) as held:
        if not held or not index.mark_building():
            return False
        generation = current_generation(settings, identity)  # every save before it is in
    try:
        with session_scope(settings) as db:
            terms = db.scalar(
                select(func.count())
                .select_from(TermCount)
                .where(TermCount.project_id == project.id)
            )
            index.start_build(terms or 0, _stored_text(db, project.id)[0])
            batches = all_items(db, project.id)
            placed: dict[str, str] = {}
            next_docno, odd = _add(db, index, project.id, batches, 0, placed, progress, fresh=True)
            changes = Changes()
            changes.frequencies = _frequencies(db, project.id, None)
            index.write(changes)
        with index_lock(settings, identity, wait=LOCK_SECONDS) as held:
            if not held:
                raise TimeoutError(f"the index of {project.name} stayed locked")
            pending = index.take("pending")
            with session_scope(settings) as db:
                items = items_by_id(db, project.id, pending)
                next_docno, _ = _add(db, index, project.id, [items], next_docno, placed)
            stamp, waiting = _advance(generation, [g for g, _ in pending])
            closing = _stamp(settings, identity, stamp, waiting, next_docno)
            retire_removed(index, pending, closing)  # read by the build before they went
            # what the build is, before the stamp that closes it
            closing.meta = {"format": FORMAT, "odd_built": str(odd), **closing.meta}
            index.write(closing)
            index.switch()
    finally:
        index.release_building()
    return True


def _stored_text(db: DBSession, project_id: str) -> tuple[int, int]:
    """(memories, characters of their text and titles) the project's index covers."""
    memories = characters = 0
    for table in TABLES.values():
        model = table.model
        lengths = [func.coalesce(func.length(getattr(model, c)), 0) for c in table.columns]
        count, size = db.execute(
            select(func.count(), func.coalesce(func.sum(sum(lengths[1:], lengths[0])), 0)).where(
                model.project_id == project_id
            )
        ).one()
        memories += count
        characters += int(size)
    return memories, characters


def report(settings: Settings, names: Sequence[str] | None = None) -> list[dict]:
    """Per project: its memories, their stored text, the index's size and where it is kept,
    and whether it is current, stale or missing ("none" where no index is kept)."""
    from contextrecall.db import session_scope

    rows, kept = [], index_kept(settings)
    kept_in = ("redis" if settings.cache_url else "file") if kept else "database"  # reads go there
    with session_scope(settings) as db:
        projects = list(db.scalars(select(Project).order_by(Project.name)))
        for project in projects:
            if names and project.name not in names and project.identity not in names:
                continue
            memories, characters = _stored_text(db, project.id)
            index = open_index(settings, project.identity, reader=False)
            try:
                state = index.open() if kept else (None, 0)
            except Exception:
                state = None
            if not kept:
                condition = "none"
            elif state is None:
                condition = "unreadable"
            elif state[0] is None:
                condition = "missing"
            else:
                condition = "current" if state[0] == state[1] else "stale"
            rows.append(
                {
                    "project": project.name,
                    "memories": memories,
                    "text_bytes": characters,
                    "index_bytes": index.size() if condition in ("current", "stale") else 0,
                    "kept_in": kept_in,
                    "state": condition,
                }
            )
    return rows


def rebuild_projects(
    settings: Settings,
    name: str | None = None,
    progress: Callable[[Project, int], Callable[[int], None] | None] | None = None,
) -> list[str]:
    """Rebuild the index of the project named ``name`` (every project when None); the names
    rebuilt. ``progress(project, memories)`` may return a callback fed batch sizes."""
    from contextrecall.db import session_scope

    with session_scope(settings) as db:
        statement = select(Project).order_by(Project.name)
        if name is not None:
            statement = statement.where((Project.name == name) | (Project.identity == name))
        projects = list(db.scalars(statement))
        sizes = {p.id: _stored_text(db, p.id)[0] for p in projects}
    if name is not None and not projects:
        raise LookupError(f"no project named {name!r}")
    for project in projects:
        rebuild(settings, project, progress(project, sizes[project.id]) if progress else None)
    return [p.name for p in projects]
