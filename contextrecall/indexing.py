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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from celery.signals import worker_ready
from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import Session as DBSession

from contextrecall.db import database_now
from contextrecall.generation import (
    cache_address,
    file_generation,
    generation_file,
    generation_key,
    project_namespace,
)
from contextrecall.models import Project, TermCount
from contextrecall.recall.answer import DECISION, SESSION, SNIPPET
from contextrecall.recall.index_format import encode, kind_of, turn_field
from contextrecall.recall.index_store import Changes, FileIndex, RedisIndex, open_index
from contextrecall.recall.loading import TABLES, DatabaseSource
from contextrecall.recall.ranking import Item, found_by
from contextrecall.settings import Settings, get_settings
from contextrecall.worker.signals import memory_changed, memory_saved

log = logging.getLogger(__name__)
LOCK_SECONDS = 120.0
BUILD_BATCH = 2000
CATCH_UP = timedelta(minutes=11)  # longer than any save's transaction (its time limit)


def current_generation(settings: Settings, identity: str) -> int:
    address = cache_address(settings)
    if address is None:
        return file_generation(generation_file(settings, identity))
    (value,) = address.mget([generation_key(identity)], 1.0)
    return int(value or 0)


@contextmanager
def index_lock(settings: Settings, identity: str, wait: float) -> Iterator[bool]:
    """Hold the project's index lock (yields False when not had within ``wait`` seconds)."""
    namespace = project_namespace(identity)
    address = cache_address(settings)
    if address is None:
        import fcntl

        folder = settings.location("index")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{namespace}.lock"), "a") as handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        yield False
                        return
                    time.sleep(0.02)
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    from contextrecall.broker.redis_wire import resp_command

    key, token = f"recall:ixlock:{namespace}", os.urandom(8).hex()
    deadline = time.monotonic() + wait
    while True:
        (reply,) = address.call(
            [resp_command("SET", key, token, "NX", "PX", str(int(LOCK_SECONDS * 1000)))], 1.0
        )
        if reply.startswith(b"+OK"):
            break
        if time.monotonic() > deadline:
            yield False
            return
        time.sleep(0.02)
    try:
        yield True
    finally:
        release = (
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
            "end return 0"
        )
        address.call([resp_command("EVAL", release, "1", key, token)], 1.0)


def _rows_since(
    db: DBSession, project_id: str, kind: str, since: datetime | None, after: tuple | None
) -> list[Item]:
    """A batch of the project's items of ``kind`` stamped at ``since`` or later, in
    (time, id) order, after the (time, id) ``after``."""
    table = TABLES[kind]
    where = [true()]
    if since is not None:
        where.append(table.time >= since)
    if after is not None:
        moment, last_id = after
        where.append((table.time > moment) | ((table.time == moment) & (table.model.id > last_id)))
    source = DatabaseSource(db, project_id)
    return source.items(kind, and_(*where), (table.time, table.model.id), BUILD_BATCH)


def items_since(db: DBSession, project_id: str, since: datetime | None) -> Iterator[list[Item]]:
    """The project's items stamped at ``since`` or later (all when None), in batches, each
    kind in (time, id) order, so docnos grow with time as the database orders them."""
    for kind in (SESSION, DECISION, SNIPPET):
        after = None
        while True:
            batch = _rows_since(db, project_id, kind, since, after)
            if not batch:
                break
            yield batch
            last = batch[-1]
            after = (last.created_at, last.id)
            if len(batch) < BUILD_BATCH:
                break


def _changes(items: Sequence[Item], known: dict[str, int], next_docno: int) -> tuple[Changes, int]:
    """What adding ``items`` writes, docnos numbered from ``next_docno``: a snippet or a
    decision already indexed is written again in place (its time or use changed), a session
    summary (rewritten as its session grows) gets a new docno and the old one is dead."""
    changes = Changes()
    for item in items:
        kind = kind_of(item)
        old = known.get(item.id)
        if old is not None and kind != SESSION:
            changes.records[old] = encode(item)
            continue
        docno = next_docno
        next_docno += 1
        if old is not None:
            changes.dead.setdefault(kind, []).append(old)
            changes.dropped_newest.setdefault(kind, []).append(old)
        changes.records[docno] = encode(item)
        changes.ids[item.id] = docno
        for word in found_by(item):
            changes.postings.setdefault((kind, word), []).append(docno)
        if item.position is not None:
            changes.turns[turn_field(item.session, item.part, item.position)] = docno
        if kind != SNIPPET:
            at = item.created_at.timestamp() if item.created_at else 0.0
            changes.newest.setdefault(kind, {})[docno] = at
    return changes, next_docno


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


def _add(
    db: DBSession,
    index: FileIndex | RedisIndex,
    project_id: str,
    since: datetime | None,
    next_docno: int,
    lookup: bool,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the project's items stamped since ``since`` into ``index``; the next docno."""
    for batch in items_since(db, project_id, since):
        known = index.docnos([item.id for item in batch]) if lookup else {}
        changes, next_docno = _changes(batch, known, next_docno)
        words = {word for (_, word) in changes.postings}
        changes.frequencies = _frequencies(db, project_id, words)
        changes.meta["next"] = str(next_docno)
        index.write(changes)
        if progress:
            progress(len(batch))
    return next_docno


def _start_block(settings: Settings, identity: str) -> str:
    from contextrecall.recall.hooks import MAX_OUTPUT_CHARS
    from contextrecall.recall.service import session_start_block

    return session_start_block(settings, identity)[:MAX_OUTPUT_CHARS]


def sync(
    settings: Settings, db: DBSession, identity: str, since: datetime, generation: int | None
) -> str:
    """Add what was stored since ``since`` (the database's clock) to the project's index and
    count ``generation`` as synced: "synced", or "missing" when there is no index to add to
    (a rebuild makes one), or "locked" when its lock was not had."""
    project_id = db.scalar(select(Project.id).where(Project.identity == identity))
    if project_id is None:
        return "missing"
    with index_lock(settings, identity, wait=10.0) as held:
        if not held:
            return "locked"
        index = open_index(settings, identity, reader=False)
        stamp, _ = _open(settings, index, identity)
        if stamp is None:
            return "missing"
        next_docno = _add(db, index, project_id, since, int(index.meta("next") or 0), True)
        synced = {int(g) for g in (index.meta("synced") or "").split(",") if g}
        if generation is not None:
            synced.add(generation)
        while stamp + 1 in synced:
            stamp += 1
            synced.discard(stamp)
        changes = Changes()
        changes.meta = {
            "next": str(next_docno),
            "start": _start_block(settings, identity),
            "synced": ",".join(str(g) for g in sorted(g for g in synced if g > stamp)),
            "stamp": str(stamp),
        }
        index.write(changes)
    return "synced"


@memory_saved.connect
def after_save(
    sender: object = None,
    *,
    identity: str,
    since: datetime,
    generation: int | None,
    settings: Settings | None = None,
    **_: object,
) -> None:
    """Bring the project's index up to a save that just committed (rebuilt when missing);
    a failure is logged, never raised: the index only makes recall faster."""
    from contextrecall.db import session_scope

    settings = settings or get_settings()
    try:
        with session_scope(settings) as db:
            outcome = sync(settings, db, identity, since, generation)
            project = db.scalar(select(Project).where(Project.identity == identity))
        if outcome == "missing" and project is not None:
            rebuild(settings, project)
    except Exception as exc:
        log.warning("recall index of %s not updated: %s", identity, exc)


def _state(settings: Settings, identity: str) -> tuple[int | None, int] | None:
    """(the index's stamp or None when missing, the project's generation); None when
    unreadable."""
    index = open_index(settings, identity, reader=False)
    try:
        return _open(settings, index, identity)
    except Exception:
        return None


def is_fresh(settings: Settings, identity: str) -> bool:
    state = _state(settings, identity)
    return state is not None and state[0] is not None and state[0] == state[1]


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
        while True:
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

        with session_scope(self.settings) as db:
            projects = list(db.scalars(select(Project)))
        rebuilt = []
        for project in projects:
            state = _state(self.settings, project.identity)
            if state is None:
                continue
            stamp, current = state
            stuck = stamp is not None and stamp != current and self.seen.get(project.id) == stamp
            self.seen[project.id] = stamp
            if stamp is None or stuck:
                rebuild(self.settings, project)
                self.seen.pop(project.id, None)
                rebuilt.append(project.name)
        return rebuilt


@worker_ready.connect
def _keep_indexes(**_: object) -> None:
    Keeper(get_settings()).start()


@memory_changed.connect
def _rebuild_all(sender: object = None, **_: object) -> None:
    """Decay and cleanup rescore or remove memory everywhere: each index is rebuilt (the
    old one serves until the new one is in)."""
    try:
        rebuild_projects(get_settings())
    except Exception as exc:
        log.warning("recall indexes not rebuilt: %s", exc)


def _open(settings: Settings, index: FileIndex | RedisIndex, identity: str):
    if isinstance(index, RedisIndex):
        return index.open(generation_key(identity))
    return index.open()


def rebuild(
    settings: Settings,
    project: Project,
    progress: Callable[[int], None] | None = None,
) -> None:
    """A new index of the whole project from the database, switched to at once."""
    from contextrecall.db import session_scope

    identity = project.identity
    index = open_index(settings, identity, reader=False)
    with session_scope(settings) as db:
        started = database_now(db)
        generation = current_generation(settings, identity)
        index.start_build()
        next_docno = _add(db, index, project.id, None, 0, False, progress)
        changes = Changes()
        changes.frequencies = _frequencies(db, project.id, None)
        index.write(changes)
    with index_lock(settings, identity, wait=LOCK_SECONDS) as held:
        if not held:
            raise TimeoutError(f"the index of {project.name} is locked by another writer")
        with session_scope(settings) as db:
            generation = current_generation(settings, identity)
            next_docno = _add(db, index, project.id, started - CATCH_UP, next_docno, True)
        changes = Changes()
        changes.meta = {
            "next": str(next_docno),
            "start": _start_block(settings, identity),
            "synced": "",
            "stamp": str(generation),
        }
        index.write(changes)
        index.switch()


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
    and whether it is current, stale or missing."""
    from contextrecall.db import session_scope

    rows = []
    with session_scope(settings) as db:
        projects = list(db.scalars(select(Project).order_by(Project.name)))
        for project in projects:
            if names and project.name not in names and project.identity not in names:
                continue
            memories, characters = _stored_text(db, project.id)
            index = open_index(settings, project.identity, reader=False)
            state = _state(settings, project.identity)
            if state is None:
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
                    "kept_in": "redis" if settings.cache_url else "file",
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
