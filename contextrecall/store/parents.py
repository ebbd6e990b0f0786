"""The parents of every memory row: project, machine and session, found or created.

Each is looked up by its natural key and created race-safely when missing, inside the
caller's transaction.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DBSession

from contextrecall.dialect import lock_row_for_update
from contextrecall.models import Machine, Project, Session

MACHINE_SEEN_EVERY = 3600  # seconds: "last seen" is written at most this often


def utc_now() -> datetime:
    """Now, as the naive UTC datetime the database columns hold."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_time(value: str | None) -> datetime | None:
    """An ISO-8601 time as naive UTC; None when missing or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def get_or_create(db: DBSession, model: type, lookup: dict[str, Any], **values: Any) -> Any:
    """The row matching ``lookup``, created (race-safely) when missing."""
    row = db.scalars(select(model).filter_by(**lookup)).first()
    if row is not None:
        return row
    try:
        with db.begin_nested():
            row = model(**lookup, **values)
            db.add(row)
    except IntegrityError:
        row = db.scalars(select(model).filter_by(**lookup)).one()
    return row


def resolve_project(
    db: DBSession,
    identity: str,
    name: str | None = None,
    git_remote: str | None = None,
    root_path: str | None = None,
) -> Project:
    """The project of ``identity``; a named project (identity "name:...") also by name."""
    name = (name or identity)[:255]
    project = db.scalars(select(Project).where(Project.identity == identity)).first()
    if project is None and identity.startswith("name:"):
        project = db.scalars(select(Project).where(Project.name == name)).first()
    if project is not None:
        return project
    taken = db.scalars(select(Project.id).where(Project.name == name)).first()
    if taken is not None:  # two repositories with the same short name
        name = f"{name[:240]}-{hashlib.sha256(identity.encode()).hexdigest()[:8]}"
    return get_or_create(
        db,
        Project,
        {"identity": identity},
        name=name,
        git_remote=git_remote,
        root_path=root_path,
    )


def resolve_machine(
    db: DBSession, fingerprint: str | None, hostname: str | None, platform: str | None = None
) -> Machine | None:
    """The machine of ``fingerprint`` (None without one), its "last seen" kept current."""
    if not fingerprint:
        return None
    machine = get_or_create(
        db,
        Machine,
        {"fingerprint": fingerprint[:64]},
        hostname=(hostname or "unknown")[:255],
        platform=platform,
    )
    now = utc_now()
    # One write an hour is enough for "last seen"; every save writing it would cost a round trip.
    if (
        machine.last_seen_at is None
        or (now - machine.last_seen_at).total_seconds() > MACHINE_SEEN_EVERY
    ):
        machine.last_seen_at = now
    return machine


def resolve_session(
    db: DBSession, project: Project, machine: Machine | None, external_id: str, source_format: str
) -> Session:
    """The session the agent calls ``external_id`` in ``project``, locked for this
    transaction (``lock_session``): an existing one is read and locked in one statement."""
    lookup = {"project_id": project.id, "external_id": external_id[:255]}
    row = db.scalars(lock_row_for_update(db, select(Session).filter_by(**lookup))).first()
    if row is not None:
        return row
    row = get_or_create(
        db,
        Session,
        lookup,
        machine_id=machine.id if machine else None,
        source_format=source_format[:20],
    )
    db.flush()
    lock_session(db, row)
    return row


def lock_session(db: DBSession, session: Session) -> None:
    """Serialize saves of one session so each sees every earlier delta."""
    db.execute(lock_row_for_update(db, select(Session.id).where(Session.id == session.id)))
