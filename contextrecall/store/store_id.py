"""Which store this is: the id of the database's one ``store_identity`` row, the same from
every URL that reaches it. A job may name the store it is for; a worker of another store
leaves it (``OtherStore``), and a worker's confirmation names its store's id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from contextrecall.dialect import insert_ignoring_duplicates
from contextrecall.models import StoreIdentity, new_uuid
from contextrecall.settings import Settings


class OtherStore(Exception):
    """A job for another store than this worker's: left for a worker of that store."""

    def __init__(self, wanted: str, own: str) -> None:
        super().__init__(f"job is for store {wanted}; this worker writes to store {own}")
        self.store = wanted


def store_id(db: DBSession) -> str:
    """This database's store id (made here if the row is missing, e.g. a restored dump).
    Read each time, never cached: a database dropped and made again is another store."""
    query = select(StoreIdentity.id).where(StoreIdentity.slot == 1)
    found = db.scalar(query)
    if found is None:
        row = {"id": new_uuid(), "slot": 1}
        insert_ignoring_duplicates(db, StoreIdentity.__table__, [row], key=("slot",))
        found = db.scalar(query)
    return str(found)


def check_store(db: DBSession, job: object) -> str:
    """This store's id; OtherStore when ``job`` names another store."""
    own = store_id(db)
    wanted = job.get("store") if isinstance(job, dict) else None
    if isinstance(wanted, str) and wanted and wanted != own:
        raise OtherStore(wanted, own)
    return own


def read_store(settings: Settings) -> str:
    """The id of the store ``settings`` name."""
    from contextrecall.db import session_scope

    with session_scope(settings) as db:
        return store_id(db)
