"""Correcting memory by hand: `recall forget`, `recall pin` / `unpin`, `recall export` /
`import`, and the memory browser, `recall ui`."""

from __future__ import annotations

import json
import sys
from itertools import chain

import click

from contextrecall.cli.common import RecallError, State, one_line_errors
from contextrecall.cli.recall import this_project


def _removed(counts: dict[str, int]) -> str:
    return (
        f"{counts.get('sessions', 0)} session(s), {counts.get('decisions', 0)} decision(s), "
        f"{counts.get('snippets', 0)} snippet(s); stored deltas: "
        f"{counts.get('deltas_removed', 0)} removed, {counts.get('deltas_rewritten', 0)} "
        f"rewritten without it; {counts.get('copies_rewritten', 0)} other memory(ies) that "
        "quoted it rewritten"
    )


def _line(memory: dict) -> str:
    text = " ".join(str(memory.get("text", "")).split())
    return f"  {memory['kind']:<8} {memory['id']}  {text[:100]}"


@click.command("forget")
@click.argument("ids", nargs=-1)
@click.option("--session", help="Forget a whole session (the agent's session id, or ours).")
@click.option("--search", "query", help="Forget what a search for this finds (see --yes).")
@click.option("--project", help="Only this project (default for --search: this directory's).")
@click.option(
    "--limit",
    type=click.IntRange(1, 500),
    default=50,
    show_default=True,
    help="With --search: at most this many memories.",
)
@click.option("--yes", is_flag=True, help="With --search: forget them (else only a preview).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@one_line_errors
@click.pass_obj
def forget(
    state: State,
    ids: tuple[str, ...],
    session: str | None,
    query: str | None,
    project: str | None,
    limit: int,
    yes: bool,
    as_json: bool,
) -> None:
    """Forget memories by id, a session, or what a search finds: gone from the database,
    the stored deltas, the index and the cache, and never stored again."""
    from contextrecall.curation import forgetting

    chosen = [bool(ids), session is not None, query is not None]
    if sum(chosen) != 1:
        raise RecallError("give memory ids, --session or --search (one of them)")
    settings = state.ready_settings
    scope = forgetting.Scope(project)
    if session is not None:
        report = forgetting.forget_session(settings, session, scope)
    elif query is not None:
        project = project or this_project()
        if not yes:
            found = forgetting.matches(settings, project, query, limit)
            if as_json:
                click.echo(json.dumps({"query": query, "would_forget": found}))
                return
            for memory in found:
                kept = (
                    "" if memory["forgotten"] else "  (a session summary: written again without it)"
                )
                click.echo(_line(memory) + kept)
            doomed = sum(1 for memory in found if memory["forgotten"])
            click.echo(f"would forget {doomed} memory(ies): run again with --yes")
            return
        report = forgetting.forget_matches(settings, project, query, limit)
    else:
        report = forgetting.forget_ids(settings, ids, scope)
        if not report["forgotten"]:
            raise RecallError(f"no memory with id {', '.join(report['not_found'])}")
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    for memory in report.get("forgotten", []):
        click.echo(_line(memory))
    for missing in report.get("not_found", []):
        click.echo(f"recall: no memory with id {missing}", err=True)
    click.echo(f"forgot {_removed(report.get('removed', {}))}")


def _pin(state: State, ids: tuple[str, ...], project: str | None, pinned: bool) -> None:
    from contextrecall.curation import forgetting

    if not ids:
        raise RecallError("give the ids of the memories (`recall search --json` lists them)")
    report = forgetting.pin_ids(state.ready_settings, ids, pinned, forgetting.Scope(project))
    done = report["pinned" if pinned else "unpinned"]
    if not done:
        raise RecallError(f"no memory with id {', '.join(report['not_found'])}")
    for memory in done:
        click.echo(_line(memory))
    for missing in report["not_found"]:
        click.echo(f"recall: no memory with id {missing}", err=True)
    click.echo(f"{'pinned' if pinned else 'unpinned'} {len(done)} memory(ies)")


@click.command("pin")
@click.argument("ids", nargs=-1)
@click.option("--project", help="Only memories of this project.")
@one_line_errors
@click.pass_obj
def pin(state: State, ids: tuple[str, ...], project: str | None) -> None:
    """Pin memories: decay never lowers them, cleanup keeps them, the session start shows
    them first."""
    _pin(state, ids, project, True)


@click.command("unpin")
@click.argument("ids", nargs=-1)
@click.option("--project", help="Only memories of this project.")
@one_line_errors
@click.pass_obj
def unpin(state: State, ids: tuple[str, ...], project: str | None) -> None:
    """Unpin memories: they decay and rank like any other again."""
    _pin(state, ids, project, False)


@click.command("export")
@click.option("--project", help="Project name (default: the project of this directory).")
@click.option(
    "--deltas",
    is_flag=True,
    help="Also the stored transcript slices, decrypted (redacted text, in clear).",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write here (default: stdout)."
)
@one_line_errors
@click.pass_obj
def export(state: State, project: str | None, deltas: bool, output: str | None) -> None:
    """Write a project's memory as JSON Lines, for `recall import` on another store."""
    from contextrecall.curation.transfer import export_lines

    lines = export_lines(state.ready_settings, project or this_project(), deltas)
    first = next(lines)  # a missing project fails before the output file is made
    if output is None:
        for line in chain([first], lines):
            sys.stdout.write(line + "\n")
        return
    import os

    # Written beside it and renamed when whole; with the deltas (transcript text) as private
    # as the key file from the first byte.
    temporary, written = f"{output}.{os.getpid()}.tmp", 0
    descriptor = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if deltas else 0o644
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            for line in chain([first], lines):
                handle.write(line + "\n")
                written += 1
        os.replace(temporary, output)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    click.echo(f"exported {written - 1} record(s) to {output}", err=True)


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@one_line_errors
@click.pass_obj
def import_command(state: State, path: str) -> None:
    """Load an export (a file, or - for stdin) into this store; what it holds already, and
    what this store forgot, is left as it is."""
    from contextrecall.curation.transfer import import_lines

    try:
        handle = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise RecallError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        report = import_lines(state.ready_settings, handle)
    except UnicodeDecodeError as exc:
        raise RecallError(f"{path} is not UTF-8 text") from exc
    finally:
        if handle is not sys.stdin:
            handle.close()
    shown = ", ".join(f"{n} {kind}" for kind, n in report["added"].items())
    click.echo(f"imported into {report['project']}: {shown}")


@click.command("ui")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port (default: a free one)."
)
@click.option("--no-open", is_flag=True, help="Print the address only; open no browser.")
@one_line_errors
@click.pass_obj
def ui(state: State, port: int, no_open: bool) -> None:
    """Browse, search, pin and forget memory in a local web page (127.0.0.1 only, a random
    token in its address)."""
    from contextrecall.ui.app import serve

    try:
        serve(state.ready_settings, port, open_browser=not no_open)
    except OSError as exc:
        raise RecallError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
    except KeyboardInterrupt:
        pass
