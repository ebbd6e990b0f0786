"""The ``recall`` command line: parses arguments and calls into the package.

Heavy modules (SQLAlchemy, Alembic, Celery) are imported inside the commands that need them,
so commands that don't need them stay quick to start.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from contextrecall.settings import get_settings

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
        from sqlalchemy.exc import OperationalError, SQLAlchemyError

        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except CommandError as exc:
            raise RecallError(f"migration: {str(exc).splitlines()[0]}") from exc
        except OperationalError as exc:
            raise RecallError(f"database unavailable: {str(exc.orig).splitlines()[0]}") from exc
        except SQLAlchemyError as exc:
            raise RecallError(f"database error: {str(exc).splitlines()[0]}") from exc
        except (OSError, ValueError) as exc:
            raise RecallError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc

    return wrapper  # type: ignore[return-value]


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "claude", "chat"]),
    default="auto",
    show_default=True,
    help="Transcript format.",
)


@click.group()
@click.version_option(package_name="contextrecall")
def cli() -> None:
    """Context Recall: persistent, cross-machine memory for AI coding agents."""


# --- database -------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@one_line_errors
def db_upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    from contextrecall import migrate

    migrate.upgrade(revision=revision)
    click.echo(f"database at {migrate.current_revision()}")


@db.command("downgrade")
@click.argument("revision")
@one_line_errors
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION ('base' removes every table)."""
    from contextrecall import migrate

    migrate.downgrade(revision=revision)
    click.echo(f"database at {migrate.current_revision() or 'base'}")


@db.command("current")
@one_line_errors
def db_current() -> None:
    """Print the revision the database is at."""
    from contextrecall import migrate

    current, head = migrate.current_revision(), migrate.head_revision()
    suffix = " (head)" if current == head else f" (head is {head})"
    click.echo(f"{current or 'base'}{suffix}")


@db.command("check")
@one_line_errors
def db_check() -> None:
    """Fail if the models and the migrations disagree."""
    from contextrecall import migrate

    drift = migrate.check()
    if drift:
        raise RecallError(f"models and migrations differ: {drift}")
    click.echo("models and migrations agree")


# --- status ---------------------------------------------------------------------------------


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@one_line_errors
def status(as_json: bool) -> None:
    """Show the database revision and rows per table."""
    from contextrecall import operations

    report = operations.status_report(get_settings())
    if as_json:
        click.echo(json.dumps(report, sort_keys=True))
        return
    click.echo(operations.format_status(report))


# --- memory extraction ----------------------------------------------------------------------


@cli.command()
@click.argument("path", type=click.Path(path_type=str))
@format_option
@click.option("--json", "as_json", is_flag=True, help="Print the memory as JSON.")
@one_line_errors
def compress(path: str, fmt: str, as_json: bool) -> None:
    """Show the memory a transcript would yield, storing nothing."""
    from contextrecall.compression import compress_file, render_summary_block

    memory = compress_file(path, fmt=fmt)
    if as_json:
        click.echo(json.dumps(memory.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_summary_block(memory))


# --- write path -----------------------------------------------------------------------------


@cli.command()
def hook() -> None:
    """Claude Code hook entry: reads the hook JSON on stdin; always exits 0."""
    from contextrecall.hook import main as hook_main

    sys.exit(hook_main())


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--project", help="Project name (default: the project of the current directory).")
@click.option("--session", help="Session id (default: each file's name without extension).")
@format_option
@click.option("--wait", is_flag=True, help="Return once the worker has stored every job.")
@click.option(
    "--timeout", type=float, default=300.0, show_default=True, help="Seconds --wait waits at most."
)
@one_line_errors
def save(
    paths: tuple[str, ...],
    project: str | None,
    session: str | None,
    fmt: str,
    wait: bool,
    timeout: float,
) -> None:
    """Enqueue saves of transcripts (only what is new since the last save of each)."""
    from contextrecall import saving_client

    settings = get_settings()
    if session and len(paths) > 1:
        raise RecallError("--session names one session; give one PATH with it")
    jobs = saving_client.enqueue_files(
        settings,
        [Path(p) for p in paths],
        project=project,
        session=session,
        fmt=fmt,
        progress=sys.stderr.isatty(),
    )
    click.echo(f"enqueued {len(jobs)} job(s) from {len(paths)} file(s)", err=True)
    if wait and jobs:
        failures = saving_client.wait_for(settings, jobs, timeout=timeout)
        if failures:
            for job_id, reason in failures.items():
                click.echo(f"recall: job {job_id} failed: {reason}", err=True)
            raise RecallError(f"{len(failures)} of {len(jobs)} job(s) failed")
        click.echo(f"stored {len(jobs)} job(s)", err=True)


@cli.group()
def spool() -> None:
    """The local outbox of jobs the hook could not publish."""


@spool.command("flush")
@one_line_errors
def spool_flush() -> None:
    """Deliver spooled jobs to the broker."""
    from contextrecall.enqueue import flush_spool

    delivered, remaining = flush_spool(get_settings())
    click.echo(f"delivered {delivered}, {remaining} left in the spool")
    if remaining:
        raise RecallError(f"{remaining} job(s) could not be delivered; is the broker up?")


# --- read path ------------------------------------------------------------------------------


@cli.command()
@click.argument("query", required=False)
@click.option("--project", required=True, help="Project name.")
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Token budget of the returned context (tokens = ceil(chars / 4)).",
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many items.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--jsonl", is_flag=True, help="One query per stdin line, one JSON object each.")
@one_line_errors
def search(
    query: str | None, project: str, budget: int, limit: int | None, as_json: bool, jsonl: bool
) -> None:
    """Ranked recall from a project's memory."""
    from contextrecall.recall.service import search as run_search

    settings = get_settings()
    if jsonl:
        if query:
            raise RecallError("--jsonl reads queries from stdin; give no QUERY argument")
        for line in sys.stdin:
            line = line.strip()
            if line:
                result = run_search(settings, project, line, budget=budget, limit=limit)
                click.echo(json.dumps(result, ensure_ascii=False))
        return
    result = run_search(settings, project, query, budget=budget, limit=limit)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    elif result["context"]:
        click.echo(result["context"])


@cli.command()
@click.option("--project", required=True, help="Project name.")
@click.option("--query", help="A prompt: the UserPromptSubmit block instead of SessionStart's.")
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    help="Token budget (default 2000, or 1000 with --query).",
)
@one_line_errors
def inject(project: str, query: str | None, budget: int | None) -> None:
    """Print the exact block a SessionStart (or, with --query, UserPromptSubmit) hook injects."""
    from contextrecall.recall import service

    settings = get_settings()
    if query is None:
        block = service.session_start_block(
            settings, project, budget or service.SESSION_START_BUDGET
        )
    else:
        block = service.prompt_block(settings, project, query, budget or service.PROMPT_BUDGET)
    if block:
        click.echo(block)


# --- Celery processes: Celery's own commands, with the project's app -----------------------

PASSTHROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def _celery(argv: list[str]) -> None:
    from contextrecall.worker.app import app

    app.start(argv=argv)


@cli.command(context_settings=PASSTHROUGH)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(celery_args: tuple[str, ...]) -> None:
    """Start a Celery worker (arguments go to `celery worker`)."""
    _celery(["worker", "--loglevel=INFO", *celery_args])


@cli.command(context_settings=PASSTHROUGH)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def beat(celery_args: tuple[str, ...]) -> None:
    """Start Celery beat (arguments go to `celery beat`)."""
    _celery(["beat", "--loglevel=INFO", *celery_args])


@cli.command(context_settings=PASSTHROUGH)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def flower(celery_args: tuple[str, ...]) -> None:
    """Start Flower with basic auth from RECALL_FLOWER_BASIC_AUTH (arguments go to Flower)."""
    auth = get_settings().flower_basic_auth
    if not auth or ":" not in auth:
        raise RecallError("set RECALL_FLOWER_BASIC_AUTH to user:password; Flower never runs open")
    _celery(["flower", f"--basic-auth={auth}", *celery_args])


# --- demo -----------------------------------------------------------------------------------


@cli.command()
@one_line_errors
def demo() -> None:
    """Run the whole loop on the embedded defaults, with no server."""
    from contextrecall import demo as demo_module

    try:
        demo_module.run(echo=click.echo)
    except RuntimeError as exc:
        raise RecallError(str(exc)) from exc


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="recall")


if __name__ == "__main__":
    sys.exit(main())
