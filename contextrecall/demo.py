"""`recall demo`: the whole loop on the embedded defaults, with no server."""

from __future__ import annotations

from collections.abc import Callable

from contextrecall import migrate, operations
from contextrecall.settings import get_settings


def run(echo: Callable[[str], None] = print) -> None:
    """Migrate the embedded database and show what is stored."""
    settings = get_settings()
    echo(f"Context Recall demo (home: {settings.home})")
    migrate.upgrade(settings)
    echo(operations.format_status(operations.status_report(settings)))
