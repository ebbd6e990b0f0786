"""Dialect differences (MariaDB vs SQLite), one small function each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Table, func, literal, literal_column, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

_EPOCH = datetime(1970, 1, 1)
_EPOCH_TO_SECONDS = 62_167_219_200  # MariaDB's TO_SECONDS('1970-01-01'): seconds since year 0


def is_mariadb(db: Session) -> bool:
    """Whether ``db`` talks to MariaDB (or MySQL) rather than SQLite."""
    return db.get_bind().dialect.name in {"mysql", "mariadb"}


def _insert(db: Session, table: Table) -> Insert:
    if is_mariadb(db):
        from sqlalchemy.dialects.mysql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def hold_row(db: Session, table: Table, row_id: str, exclusive: bool) -> None:
    """Lock the row ``row_id`` of ``table`` until the transaction ends: shared holders run
    side by side, an exclusive one waits for them all and they for it.

    MariaDB locks the row itself. SQLite has no row locks and pysqlite begins a transaction
    only at the first write, so its reads before that see whatever was committed meanwhile:
    a no-op update begins the transaction there and then, and holds SQLite's one write lock
    (shared or not, as every SQLite writer does).
    """
    if is_mariadb(db):
        db.execute(
            select(table.c.id).where(table.c.id == row_id).with_for_update(read=not exclusive)
        )
    else:
        db.execute(update(table).where(table.c.id == row_id).values(id=table.c.id))


def insert_ignoring_duplicates(
    db: Session, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
) -> None:
    """Insert ``rows``; a row whose ``key`` already exists is left as it is."""
    if not rows:
        return
    stmt = _insert(db, table)
    if is_mariadb(db):
        # Not INSERT IGNORE: that would also swallow errors other than the duplicate key.
        stmt = stmt.on_duplicate_key_update(id=table.c.id)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    db.execute(stmt, list(rows))


def upsert_counting(
    db: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    counter: str,
    refresh: Sequence[str] = (),
) -> None:
    """Insert ``rows``; on a duplicate ``key`` add 1 to ``counter`` and refresh some columns.

    The 1 is a literal: PyMySQL's multi-row executemany cannot carry a bound parameter in the
    ON DUPLICATE KEY UPDATE clause.
    """
    if not rows:
        return
    stmt = _insert(db, table)
    if is_mariadb(db):
        updates = {counter: table.c[counter] + literal_column("1")}
        updates.update({name: stmt.inserted[name] for name in refresh})
        stmt = stmt.on_duplicate_key_update(updates)
    else:
        updates = {counter: table.c[counter] + literal_column("1")}
        updates.update({name: stmt.excluded[name] for name in refresh})
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=updates)
    db.execute(stmt, list(rows))


def upsert_adding(
    db: Session, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str], column: str
) -> None:
    """Insert ``rows``; on a duplicate ``key`` add the row's ``column`` to the stored one."""
    if not rows:
        return
    stmt = _insert(db, table)
    if is_mariadb(db):
        stmt = stmt.on_duplicate_key_update({column: table.c[column] + stmt.inserted[column]})
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_={column: table.c[column] + stmt.excluded[column]}
        )
    db.execute(stmt, list(rows))


def lock_row_for_update(db: Session, statement: Any) -> Any:
    """``statement`` locking its rows until commit where the database supports row locks.

    SQLite has no row locks; its single writer lock (taken by our first write) serializes
    writers instead.
    """
    if is_mariadb(db):
        return statement.with_for_update()
    return statement


def days_since(db: Session, moment: Any, now: datetime) -> Any:
    """SQL for the days (fractional) from the datetime column ``moment`` to ``now``.

    MariaDB: TO_SECONDS (cheaper per row than TIMESTAMPDIFF, and no time zone involved, unlike
    UNIX_TIMESTAMP) against ``now`` in the same seconds, computed here; SQLite stores datetimes
    as text, which julianday() reads.
    """
    if is_mariadb(db):
        seconds = (now - _EPOCH).total_seconds() + _EPOCH_TO_SECONDS
        return (literal(seconds) - func.to_seconds(moment)) / 86400.0
    return func.julianday(literal(now, DateTime)) - func.julianday(moment)


def greatest(db: Session, *values: Any) -> Any:
    """SQL for the largest of ``values`` (two or more): GREATEST vs SQLite's scalar max()."""
    return func.greatest(*values) if is_mariadb(db) else func.max(*values)


def least(db: Session, *values: Any) -> Any:
    """SQL for the smallest of ``values`` (two or more): LEAST vs SQLite's scalar min()."""
    return func.least(*values) if is_mariadb(db) else func.min(*values)


def ensure_math_functions(db: Session) -> None:
    """Make exp() and ln() callable in SQL. MariaDB has them; SQLite only when built with its
    math functions, so a build without them gets Python's on this connection."""
    if is_mariadb(db):
        return
    import math
    import sqlite3

    raw = db.connection().connection.dbapi_connection
    try:
        raw.execute("SELECT exp(0.0), ln(1.0)").fetchall()
    except sqlite3.OperationalError:
        raw.create_function("exp", 1, math.exp, deterministic=True)
        raw.create_function("ln", 1, math.log, deterministic=True)


def spaced_keys(db: Session, key: Any, every: int) -> list[Any]:
    """About every ``every``-th value of the primary key column ``key``, in order: the bounds
    of batches of about ``every`` rows, found with one plain read.

    MariaDB: a hash sample (CRC32) of eight times as many keys, from a scan of the smallest
    index that holds them, so a batch is the sum of eight random gaps (rarely over 2x
    ``every``) and no second pass over the table's rows is needed; SQLite: exact, by row number.
    """
    from sqlalchemy import select

    every = max(1, int(every))
    if is_mariadb(db):
        step = max(1, every // 8)
        # No ORDER BY: it would make MariaDB walk the clustered index, every row's full page;
        # unordered, it scans the smallest secondary index. Keys are lowercase UUIDs, whose
        # Python order is the column's collation order.
        sample = sorted(db.scalars(select(key).where(func.crc32(key) % step == 0)))
        return sample[every // step - 1 :: every // step]
    numbered = select(key.label("k"), func.row_number().over(order_by=key).label("n")).subquery()
    return list(db.scalars(select(numbered.c.k).where(numbered.c.n % every == 0)))
