"""Dialect differences (MariaDB vs SQLite), one small function each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, literal_column
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert


def _insert(db: Session, table: Table) -> Insert:
    if db.get_bind().dialect.name in {"mysql", "mariadb"}:
        from sqlalchemy.dialects.mysql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def insert_ignoring_duplicates(
    db: Session, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
) -> None:
    """Insert ``rows``; a row whose ``key`` already exists is left as it is."""
    if not rows:
        return
    stmt = _insert(db, table)
    if db.get_bind().dialect.name in {"mysql", "mariadb"}:
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
    if db.get_bind().dialect.name in {"mysql", "mariadb"}:
        updates = {counter: table.c[counter] + literal_column("1")}
        updates.update({name: stmt.inserted[name] for name in refresh})
        stmt = stmt.on_duplicate_key_update(updates)
    else:
        updates = {counter: table.c[counter] + literal_column("1")}
        updates.update({name: stmt.excluded[name] for name in refresh})
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=updates)
    db.execute(stmt, list(rows))


def lock_row_for_update(db: Session, statement: Any) -> Any:
    """``statement`` locking its rows until commit where the database supports row locks.

    SQLite has no row locks; its single writer lock (taken by our first write) serializes
    writers instead.
    """
    if db.get_bind().dialect.name in {"mysql", "mariadb"}:
        return statement.with_for_update()
    return statement
