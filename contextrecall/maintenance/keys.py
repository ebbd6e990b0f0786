"""Key rotation: stored deltas re-encrypted under the newest key of the ring, in batches."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, update

from contextrecall.crypto import KeyRing, TamperedError, associated_data
from contextrecall.db import session_scope
from contextrecall.models import SavedDelta
from contextrecall.settings import Settings

ROTATION_BATCH = 200


@dataclass
class Rotation:
    """What a rotation did: rows rewritten, and rows that failed authentication."""

    rewritten: int = 0
    tampered: list[str] = field(default_factory=list)
    newest_key: str = ""


def rotate(settings: Settings, ring: KeyRing, batch: int = ROTATION_BATCH) -> Rotation:
    """Re-encrypt every stored delta not under the newest key, ``batch`` rows a transaction.

    Each row is authenticated before it is rewritten (an altered row is listed in
    ``tampered`` and left as it is, never re-sealed into looking valid); rows already under the
    newest key are not touched, so a rotation can be stopped and run again at any time.
    """
    report = Rotation(newest_key=ring.key_ids[0])
    after = ""
    while True:
        with session_scope(settings) as db:
            rows = db.execute(
                select(
                    SavedDelta.id, SavedDelta.project_id, SavedDelta.session_id, SavedDelta.payload
                )
                .where(SavedDelta.key_id != report.newest_key, SavedDelta.id > after)
                .order_by(SavedDelta.id)
                .limit(batch)
            ).all()
            if not rows:
                return report
            for row_id, project_id, session_id, payload in rows:
                try:
                    sealed = ring.reencrypt(
                        payload, associated_data(project_id, session_id, "delta")
                    )
                except TamperedError:
                    report.tampered.append(row_id)
                    continue
                db.execute(
                    update(SavedDelta)
                    .where(SavedDelta.id == row_id)
                    .values(payload=sealed, key_id=report.newest_key)
                )
                report.rewritten += 1
            after = rows[-1][0]


def rows_per_key(settings: Settings) -> dict[str, int]:
    """How many stored deltas each key id sealed."""
    with session_scope(settings) as db:
        return dict(
            db.execute(select(SavedDelta.key_id, func.count()).group_by(SavedDelta.key_id)).all()
        )
