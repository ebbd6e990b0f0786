"""Operator views of the system: what `recall status` shows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from contextrecall import migrate
from contextrecall.db import get_engine
from contextrecall.models import Base
from contextrecall.settings import Settings


def status_report(settings: Settings) -> dict[str, Any]:
    """Revision and row counts per table (empty when the schema is not there yet)."""
    current = migrate.current_revision(settings)
    head = migrate.head_revision()
    rows: dict[str, int] = {}
    if current is not None:
        with get_engine(settings).connect() as connection:
            for name, table in sorted(Base.metadata.tables.items()):
                rows[name] = connection.execute(
                    select(func.count()).select_from(table)
                ).scalar_one()
    return {
        "database": _safe_url(settings.database_url),
        "revision": current,
        "head": head,
        "up_to_date": current == head,
        "rows": rows,
    }


def format_status(report: dict[str, Any]) -> str:
    lines = [
        f"database  {report['database']}",
        f"revision  {report['revision'] or 'base'}"
        + (
            "" if report["up_to_date"] else f"  (run `recall db upgrade`: head is {report['head']})"
        ),
    ]
    if report["rows"]:
        lines.append("rows")
        lines.extend(f"  {name:<24}{count:>10}" for name, count in report["rows"].items())
    return "\n".join(lines)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
