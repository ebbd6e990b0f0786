"""The write path: ``save`` transcripts, flush the ``spool``, the ``hook`` entry, and
``compress`` to show what a transcript would yield."""

from __future__ import annotations

import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import click

from contextrecall.cli.common import RecallError, State, one_line_errors

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "claude", "codex", "gemini", "chat"]),
    default="auto",
    show_default=True,
    help="Transcript format.",
)


@click.command()
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


@click.command()
def hook() -> None:
    """Claude Code hook entry: reads the hook JSON on stdin; always exits 0."""
    from contextrecall.hook import main as hook_main

    sys.exit(hook_main())


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--project", help="Project name (default: the project of the current directory).")
@click.option("--session", help="Session id (default: each file's name without extension).")
@format_option
@click.option("--wait", is_flag=True, help="Return once the worker has stored every job.")
@click.option(
    "--timeout", type=float, default=300.0, show_default=True, help="Seconds --wait waits at most."
)
@one_line_errors
@click.pass_obj
def save(
    state: State,
    paths: tuple[str, ...],
    project: str | None,
    session: str | None,
    fmt: str,
    wait: bool,
    timeout: float,
) -> None:
    """Enqueue saves of transcripts (only what is new since the last save of each)."""
    from contextrecall.client.deltas import MAX_LINE_BYTES
    from contextrecall.client.save_files import enqueue_files

    settings = state.ready_settings if wait else state.settings
    if session and len(paths) > 1:
        raise RecallError("--session names one session; give one PATH with it")

    def dropped(path: Path, count: int) -> None:
        click.echo(
            f"recall: warning: skipped {count} line(s) over {MAX_LINE_BYTES} bytes in {path}",
            err=True,
        )

    files = [Path(p) for p in paths]
    with ExitStack() as stack:
        on_file = None
        if len(files) > 1 and sys.stderr.isatty():
            # On stderr, beside the other messages of `recall save`: stdout stays for data.
            bar = stack.enter_context(
                click.progressbar(
                    length=len(files), label="saving", file=click.get_text_stream("stderr")
                )
            )
            on_file = lambda _path: bar.update(1)  # noqa: E731
        jobs = enqueue_files(
            settings,
            files,
            project=project,
            session=session,
            fmt=fmt,
            on_file=on_file,
            on_dropped=dropped,
        )
    click.echo(f"enqueued {len(jobs)} job(s) from {len(paths)} file(s)", err=True)
    if wait and jobs:
        from contextrecall.store.receipts import wait_for

        failures = wait_for(settings, jobs, timeout=timeout)
        from contextrecall.client.outbox import settle_spool

        settle_spool(settings, deadline=time.monotonic() + 5)  # their sent copies can go
        if failures:
            for job_id, reason in failures.items():
                click.echo(f"recall: job {job_id} failed: {reason}", err=True)
            raise RecallError(f"{len(failures)} of {len(jobs)} job(s) failed")
        click.echo(f"stored {len(jobs)} job(s)", err=True)


@click.group()
def spool() -> None:
    """The local outbox of jobs the hook could not publish."""


@spool.command("flush")
@one_line_errors
@click.pass_obj
def spool_flush(state: State) -> None:
    """Deliver spooled jobs to the broker; drop those the store confirms, send again those
    it still lacks after a few minutes (RECALL_SPOOL_RESEND_SECONDS)."""
    from contextrecall.client.outbox import sweep_spool

    swept = sweep_spool(state.settings)
    remaining = swept["remaining"]
    click.echo(
        f"delivered {swept['delivered']}, {remaining} left in the spool; "
        f"{swept['confirmed']} confirmed stored, {swept['resent']} sent again"
    )
    if remaining:
        raise RecallError(f"{remaining} job(s) could not be delivered; is the broker up?")
