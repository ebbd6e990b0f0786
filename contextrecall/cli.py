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
    """Queue depth, spool backlog, failed jobs, last decay and cleanup, rows per table."""
    from contextrecall.maintenance import status as operations

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
    from contextrecall.client import save_files as saving_client

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
    from contextrecall.client.outbox import flush_spool

    delivered, remaining = flush_spool(get_settings())
    click.echo(f"delivered {delivered}, {remaining} left in the spool")
    if remaining:
        raise RecallError(f"{remaining} job(s) could not be delivered; is the broker up?")


# --- keys -----------------------------------------------------------------------------------


@cli.group()
def keys() -> None:
    """The encryption key ring (RECALL_ENCRYPTION_KEY or the key file, newest key first)."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new random key (base64 of 32 bytes) to put first in the ring."""
    from contextrecall.crypto import generate_key

    click.echo(generate_key())


@keys.command("status")
@one_line_errors
def keys_status() -> None:
    """Show the ring's key ids and how many stored deltas each key sealed."""
    from contextrecall.crypto import load_key_ring
    from contextrecall.maintenance.keys import rows_per_key

    settings = get_settings()
    ring = load_key_ring(settings)
    counts = rows_per_key(settings)
    for position, key in enumerate(ring.key_ids):
        label = "newest" if position == 0 else "older"
        click.echo(f"{key}  {label:<7}{counts.pop(key, 0):>10} stored deltas")
    for key, count in sorted(counts.items()):
        click.echo(f"{key}  MISSING{count:>10} stored deltas (this key is not in the ring)")


@keys.command("rotate")
@click.option("--batch", type=click.IntRange(min=1), default=200, show_default=True)
@one_line_errors
def keys_rotate(batch: int) -> None:
    """Re-encrypt stored deltas under the newest key, in batches (safe to re-run)."""
    from contextrecall.crypto import load_key_ring
    from contextrecall.maintenance.keys import rotate

    settings = get_settings()
    report = rotate(settings, load_key_ring(settings), batch=batch)
    click.echo(f"re-encrypted {report.rewritten} stored delta(s) under key {report.newest_key}")
    if report.tampered:
        shown = ", ".join(report.tampered[:5])
        raise RecallError(
            f"{len(report.tampered)} stored delta(s) failed authentication and were left as "
            f"they are: {shown}"
        )


# --- read path ------------------------------------------------------------------------------


@cli.command()
@click.argument("query", required=False)
@click.option("--project", required=True, help="Project name.")
@click.option(
    "--budget",
    type=int,
    default=1000,
    show_default=True,
    help="Token budget of the returned context (tokens = ceil(chars / 4)), 1 to 100000.",
)
@click.option("--limit", type=int, help="At most this many items (1 to 500).")
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


@cli.command("mcp")
@click.option(
    "--project", help="Serve this project's memory (default: the project of this directory)."
)
def mcp_command(project: str | None) -> None:
    """Serve memory tools to an agent over MCP (stdio): search, get, save, project state."""
    try:
        from contextrecall.agent_server.server import serve
    except ImportError as exc:
        raise RecallError(f"the MCP SDK is not installed ({exc}); pip install mcp") from exc
    try:
        serve(get_settings(), project=project)
    except ValueError as exc:  # a bad --project; everything later is a tool error
        raise RecallError(str(exc)) from exc


# --- maintenance: the beat jobs, now -------------------------------------------------------


@cli.command("decay")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@one_line_errors
def decay_command(as_json: bool) -> None:
    """Rescore every memory's relevance from its timestamps now (the beat job)."""
    from contextrecall.maintenance import decay as decay_job
    from contextrecall.maintenance import runs

    settings = get_settings()
    result = runs.run_once(settings, "decay", None, lambda: decay_job.decay(settings))
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        click.echo(f"decay: {result['summary']}")


@cli.command("cleanup")
@click.option("--dry-run", is_flag=True, help="Report what would be removed; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@one_line_errors
def cleanup_command(dry_run: bool, as_json: bool) -> None:
    """Apply the retention policy now (the beat job); --dry-run only counts."""
    from contextrecall.maintenance import cleanup as cleanup_job
    from contextrecall.maintenance import runs

    settings = get_settings()
    if dry_run:  # not a run: nothing is recorded
        result = cleanup_job.cleanup(settings, dry_run=True)
    else:
        result = runs.run_once(settings, "cleanup", None, lambda: cleanup_job.cleanup(settings))
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        click.echo(f"cleanup{' (dry run)' if dry_run else ''}: {result['summary']}")


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
    from contextrecall.worker.monitoring import protect_metrics

    protect_metrics()
    _celery(["flower", f"--basic-auth={auth}", *celery_args])


# --- Claude Code settings: install / uninstall ----------------------------------------------

scope_option = click.option(
    "--scope",
    type=click.Choice(["user", "project"]),
    default="user",
    show_default=True,
    help="user: ~/.claude/settings.json and ~/.claude.json; project: .claude/settings.json and "
    ".mcp.json of this repository.",
)
settings_file_option = click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Edit this settings.json instead of the one --scope names (then the MCP server only "
    "with --mcp-config).",
)
mcp_config_option = click.option(
    "--mcp-config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The `recall mcp` server goes in this file instead of the one --scope names "
    "(user: ~/.claude.json; project: .mcp.json of this repository).",
)
no_mcp_option = click.option(
    "--no-mcp", is_flag=True, help="Hooks only: leave the MCP server registration alone."
)


def _settings_target(scope: str, settings_file: Path | None) -> Path:
    from contextrecall.install.files import settings_path

    return settings_file or settings_path(scope)


def _mcp_target(
    scope: str, settings_file: Path | None, mcp_config: Path | None, no_mcp: bool
) -> Path | None:
    """Where the MCP server entry goes, or None: not asked for, or an explicit --settings
    file alone (which promises to edit that file only)."""
    from contextrecall.install.files import mcp_config_path

    if no_mcp or (settings_file and not mcp_config):
        return None
    return mcp_config or mcp_config_path(scope)


def _change_claude_code(
    scope: str,
    settings_file: Path | None,
    mcp_config: Path | None,
    no_mcp: bool,
    *,
    install: bool,
) -> None:
    """Install (or uninstall) the hook entries and the MCP server, reporting each file."""
    from contextrecall.install.merge import SettingsFormatError
    from contextrecall.install.merge import files as installer

    path = _settings_target(scope, settings_file)
    mcp_path = _mcp_target(scope, settings_file, mcp_config, no_mcp)
    hooks_change = installer.install_into if install else installer.uninstall_from
    mcp_change = installer.register_mcp_server if install else installer.unregister_mcp_server
    try:
        installer.preflight(path, mcp_path)
        outcome = hooks_change(path)
        mcp = mcp_change(mcp_path) if mcp_path else None
    except (SettingsFormatError, OSError) as exc:
        raise RecallError(str(exc)) from exc
    if install:
        done = f"installed `recall hook` for {', '.join(outcome.events)} in {path}"
        unchanged = f"already installed in {path}; nothing changed"
    else:
        done = f"removed Context Recall hooks from {path}"
        unchanged = f"no Context Recall hooks in {path}; nothing changed"
    click.echo(done if outcome.changed else unchanged)
    if outcome.changed and outcome.backup:
        click.echo(f"backup: {outcome.backup}")
    if mcp is None:
        return
    if not mcp.changed:
        state = "`recall mcp` already registered in" if install else "no `recall mcp` server in"
        click.echo(f"{state} {mcp.path}; nothing changed")
        return
    if install:
        click.echo(f"registered the `recall mcp` server as {', '.join(mcp.events)} in {mcp.path}")
    else:
        click.echo(f"removed the `recall mcp` server from {mcp.path}")
    if mcp.backup:
        click.echo(f"backup: {mcp.backup}")


@cli.command("install")
@scope_option
@settings_file_option
@mcp_config_option
@no_mcp_option
def install_command(
    scope: str, settings_file: Path | None, mcp_config: Path | None, no_mcp: bool
) -> None:
    """Add the `recall hook` entries to Claude Code's settings.json and register the `recall mcp`
    server (keeps everything else)."""
    _change_claude_code(scope, settings_file, mcp_config, no_mcp, install=True)


@cli.command("uninstall")
@scope_option
@settings_file_option
@mcp_config_option
@no_mcp_option
def uninstall_command(
    scope: str, settings_file: Path | None, mcp_config: Path | None, no_mcp: bool
) -> None:
    """Remove Context Recall's hook entries and its MCP server registration, nothing else."""
    _change_claude_code(scope, settings_file, mcp_config, no_mcp, install=False)


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
