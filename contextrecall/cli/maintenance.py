"""Maintenance by hand: run the beat jobs (``decay``, ``cleanup``) now, and the ``status``
report on queues, spool, failed jobs and tables."""

from __future__ import annotations

import json

import click

from contextrecall.cli.common import State, one_line_errors
from contextrecall.cli.index import format_row


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@one_line_errors
@click.pass_obj
def status(state: State, as_json: bool) -> None:
    """Queue depth, spool backlog, failed jobs, last decay and cleanup, rows per table."""
    from contextrecall.maintenance import status as operations

    report = operations.status_report(state.settings)
    report["indexes"] = _indexes(state)
    if as_json:
        click.echo(json.dumps(report, sort_keys=True))
        return
    click.echo(operations.format_status(report))
    for row in report["indexes"]:
        click.echo(format_row(row))


def _indexes(state: State) -> list[dict]:
    """The recall index of each project (none when the database cannot be read)."""
    from contextrecall.maintenance.status import no_database_yet
    from contextrecall.recall.index import keeper

    if no_database_yet(state.settings):
        return []  # asking would create an empty embedded database
    try:
        return keeper.report(state.settings)
    except Exception:  # the status report says what is wrong with the database
        return []


@click.command("decay")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@one_line_errors
@click.pass_obj
def decay_command(state: State, as_json: bool) -> None:
    """Rescore every memory's relevance from its timestamps now (the beat job)."""
    from contextrecall.maintenance import decay as decay_job
    from contextrecall.maintenance import runs

    settings = state.ready_settings
    result = runs.run_once(settings, "decay", None, lambda: decay_job.decay(settings))
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        click.echo(f"decay: {result['summary']}")


@click.command("cleanup")
@click.option("--dry-run", is_flag=True, help="Report what would be removed; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@one_line_errors
@click.pass_obj
def cleanup_command(state: State, dry_run: bool, as_json: bool) -> None:
    """Apply the retention policy now (the beat job); --dry-run only counts."""
    from contextrecall.maintenance import cleanup as cleanup_job
    from contextrecall.maintenance import runs

    settings = state.ready_settings
    if dry_run:  # not a run: nothing is recorded
        result = cleanup_job.cleanup(settings, dry_run=True)
    else:
        result = runs.run_once(settings, "cleanup", None, lambda: cleanup_job.cleanup(settings))
        _rebuild_indexes(settings, result)
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        click.echo(f"cleanup{' (dry run)' if dry_run else ''}: {result['summary']}")


def _rebuild_indexes(settings, result: dict) -> None:
    """After a cleanup that ran, the recall indexes follow (as after the beat job)."""
    if result.get("ran"):
        from contextrecall.recall.index import keeper

        keeper.rebuild_projects(settings)
