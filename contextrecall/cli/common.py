"""What the command groups share: the one-line user error, the wrapper that produces it, and
the state the root group hands every command through ``ctx.obj``."""

from __future__ import annotations

import errno
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

import click

from contextrecall.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


class RecallError(click.ClickException):
    """A user-facing failure: one line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"recall: error: {self.format_message()}", err=True)


def one_line_errors(func: F) -> F:
    """Turn expected failures (bad input, unreachable database) into one-line errors."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from alembic.util import CommandError
        from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

        from contextrecall.db import is_missing_schema

        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except CommandError as exc:
            raise RecallError(f"migration: {str(exc).splitlines()[0]}") from exc
        except (OperationalError, ProgrammingError) as exc:
            if is_missing_schema(exc):
                raise RecallError(
                    "the database has no Context Recall tables yet: run `recall db upgrade` "
                    f"({str(exc.orig).splitlines()[0]})"
                ) from exc
            if isinstance(exc, ProgrammingError):
                raise RecallError(f"database error: {str(exc).splitlines()[0]}") from exc
            raise RecallError(f"database unavailable: {str(exc.orig).splitlines()[0]}") from exc
        except SQLAlchemyError as exc:
            raise RecallError(f"database error: {str(exc).splitlines()[0]}") from exc
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise RecallError(
                    "no space left on the device: nothing new was spooled and no offset moved; "
                    "free some space and run the command again"
                ) from exc
            raise RecallError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
        except ValueError as exc:
            raise RecallError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc

    return cast(F, wrapper)


class State:
    """What the root group builds once and every command receives as ``ctx.obj``.

    Settings that cannot be built (a malformed environment variable) fail only the commands
    that read ``settings``, at the point where they read it: inside their own error handling.
    """

    def __init__(self, build_settings: Callable[[], Settings]) -> None:
        self._settings: Settings | None = None
        self._error: Exception | None = None
        self._migrated = False
        try:
            self._settings = build_settings()
        except Exception as exc:  # raised again by the commands that need the settings
            self._error = exc

    @property
    def settings(self) -> Settings:
        """The settings, or the exception building them raised."""
        if self._error is not None:
            raise self._error
        assert self._settings is not None
        return self._settings

    @property
    def ready_settings(self) -> Settings:
        """The settings, with the embedded database created and migrated on first use (a
        server database is migrated by `recall db upgrade` or by a worker starting)."""
        settings = self.settings
        if settings.is_embedded_database and not self._migrated:
            from contextrecall.migrate import ensure_schema

            ensure_schema(settings)
            self._migrated = True
        return settings
