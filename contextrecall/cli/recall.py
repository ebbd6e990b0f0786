"""The read path: ranked ``search``, the block a hook would ``inject``, and the ``mcp`` server
that gives an agent the same memory as tools."""

from __future__ import annotations

import json
import sys

import click

from contextrecall.cli.common import RecallError, State, one_line_errors


def this_project() -> str:
    """The project of the current directory, as a hook would resolve it (its identity)."""
    from pathlib import Path

    from contextrecall.identity import project_for_directory

    return project_for_directory(Path.cwd()).identity


@click.command()
@click.argument("query", required=False)
@click.option("--project", help="Project name (default: the project of this directory).")
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
@click.pass_obj
def search(
    state: State,
    query: str | None,
    project: str | None,
    budget: int,
    limit: int | None,
    as_json: bool,
    jsonl: bool,
) -> None:
    """Ranked recall from a project's memory."""
    from contextrecall.recall.service import search as run_search

    settings = state.ready_settings
    project = project or this_project()
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


@click.command()
@click.option("--project", help="Project name (default: the project of this directory).")
@click.option("--query", help="A prompt: the UserPromptSubmit block instead of SessionStart's.")
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    help="Token budget (default 2000, or 1000 with --query).",
)
@one_line_errors
@click.pass_obj
def inject(state: State, project: str | None, query: str | None, budget: int | None) -> None:
    """Print the exact block a SessionStart (or, with --query, UserPromptSubmit) hook injects."""
    from contextrecall.recall import service, session_start

    settings = state.ready_settings
    project = project or this_project()
    if query is None:
        block = session_start.session_start_block(
            settings, project, budget or session_start.SESSION_START_BUDGET
        )
    else:
        block = service.prompt_block(settings, project, query, budget or service.PROMPT_BUDGET)
    if block:
        click.echo(block)


@click.command("mcp")
@click.option(
    "--project", help="Serve this project's memory (default: the project of this directory)."
)
@click.pass_obj
def mcp_command(state: State, project: str | None) -> None:
    """Serve memory tools to an agent over MCP (stdio): search, get, save, project state."""
    try:
        from contextrecall.agent_server.server import serve
    except ImportError as exc:
        raise RecallError(f"the MCP SDK is not installed ({exc}); pip install mcp") from exc
    try:
        serve(state.ready_settings, project=project)
    except ValueError as exc:  # a bad --project; everything later is a tool error
        raise RecallError(str(exc)) from exc
