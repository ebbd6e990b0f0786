"""Tombstones: what a user forgot, kept as hashes (never as text), so that no re-save or
rebuild stores it again (``store.forget`` writes them, ``store.save_job`` heeds them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from contextrecall.dialect import hold_row, insert_ignoring_duplicates
from contextrecall.ids import sha256_hex
from contextrecall.memory import SessionMemory
from contextrecall.models import ForgottenMemory, Project, new_uuid
from contextrecall.store import memory_rows

SESSION, DECISION, SNIPPET, LINE = "session", "decision", "snippet", "line"  # tombstone kinds
KINDS = (SESSION, DECISION, SNIPPET, LINE)


def session_mark(external_id: str) -> str:
    """The tombstone hash of the session the agent calls ``external_id``."""
    return sha256_hex(external_id[:255].encode())


@dataclass
class Tombstones:
    """What a project forgot, as a save needs it."""

    sessions: set[str] = field(default_factory=set)
    decisions: set[str] = field(default_factory=set)
    snippets: set[str] = field(default_factory=set)
    lines: set[bytes] = field(default_factory=set)

    def drop_from(self, memory: SessionMemory) -> None:
        """Leave the forgotten decisions and snippets out of ``memory``."""
        if self.decisions:
            memory.decisions = [
                d
                for d in memory.decisions
                if memory_rows.content_hash(d.text) not in self.decisions
            ]
        if self.snippets:
            memory.snippets = [
                s for s in memory.snippets if memory_rows.snippet_hash(s) not in self.snippets
            ]


def hold_project(db: DBSession, project_id: str, forgetting: bool = False) -> None:
    """Hold the project's row until the transaction ends: shared by its saves and imports,
    which store what heeds the tombstones; exclusive for a forget, which writes them. So a
    forget never commits between a save's read of the tombstones and the save's own commit
    (the save would store what was just forgotten), nor a save between a forget's read of
    what to remove and its commit."""
    hold_row(db, Project.__table__, project_id, exclusive=forgetting)


def tombstones(db: DBSession, project_id: str) -> Tombstones:
    """The project's tombstones (one indexed read; none for most projects), the project held
    (``hold_project``) until the caller's transaction ends."""
    hold_project(db, project_id)
    found = Tombstones()
    rows = db.execute(
        select(ForgottenMemory.kind, ForgottenMemory.content_hash).where(
            ForgottenMemory.project_id == project_id
        )
    )
    for kind, mark in rows:
        if kind == LINE:
            found.lines.add(bytes.fromhex(mark))
        elif kind in KINDS:
            getattr(found, f"{kind}s").add(mark)
    return found


def bury(db: DBSession, project_id: str, kind: str, marks: Iterable[str]) -> None:
    """Add tombstones of ``kind`` (each once)."""
    rows = [
        {"id": new_uuid(), "project_id": project_id, "kind": kind, "content_hash": mark}
        for mark in sorted(set(marks))
    ]
    if rows:
        insert_ignoring_duplicates(
            db, ForgottenMemory.__table__, rows, key=("project_id", "kind", "content_hash")
        )
