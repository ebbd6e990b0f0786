"""`recall index`: the recall index the worker keeps, rebuilt from the database by hand."""

from __future__ import annotations

import json

import click

from contextrecall.cli.common import RecallError, State, one_line_errors


@click.group("index")
def index() -> None:
    """The per-project recall index hooks read (Redis, or a local file when embedded)."""


@index.command("rebuild")
@click.option("--project", "-p", default=None, help="One project (name or identity); default all.")
@one_line_errors
@click.pass_obj
def rebuild_command(state: State, project: str | None) -> None:
    """Rebuild the index from the database, with a progress bar per project."""
    from contextrecall.recall.index import keeper
    from contextrecall.recall.index.store import index_kept

    settings = state.ready_settings
    if not index_kept(settings):
        raise RecallError(
            "no recall index is kept beside a shared database without RECALL_CACHE_URL: "
            "reads go to the database"
        )
    bars: list = []

    def progress(found, memories: int):
        if bars:
            bars.pop().__exit__(None, None, None)
        bar = click.progressbar(length=memories, label=f"{found.name:<24}", show_pos=True)
        bars.append(bar.__enter__())
        return bars[-1].update

    try:
        names = keeper.rebuild_projects(settings, project, progress)
    except LookupError as exc:
        raise RecallError(str(exc.args[0])) from exc
    finally:
        if bars:
            bars.pop().__exit__(None, None, None)
    where = "Redis" if settings.cache_url else settings.location("index")
    click.echo(f"rebuilt {len(names)} index(es) in {where}")


@index.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per project.")
@one_line_errors
@click.pass_obj
def status_command(state: State, as_json: bool) -> None:
    """Each project's index: memories, size against their stored text, current or not."""
    from contextrecall.recall.index import keeper

    for row in keeper.report(state.ready_settings):
        click.echo(json.dumps(row, sort_keys=True) if as_json else format_row(row))


def format_row(row: dict) -> str:
    """One project's index on one line, as `recall status` shows it."""
    if row["state"] == "none":
        return (
            f"index     {row['project']}: {row['memories']} memories, no index "
            "(reads go to the database; RECALL_CACHE_URL keeps one in Redis)"
        )
    size = f"{row['index_bytes'] / 1e6:.1f} MB"
    if row["kept_in"] == "redis" and row["text_bytes"]:  # a file's pages are not memory
        size += f" ({row['index_bytes'] / row['text_bytes']:.2f}x the stored text)"
    return (
        f"index     {row['project']}: {row['memories']} memories, {row['state']}, "
        f"{size} in {row['kept_in']}"
    )
