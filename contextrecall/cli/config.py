"""``recall config``: the one configuration file every process reads (hook, worker, beat, MCP
server, CLI): show the settings in effect and where each comes from, set and unset values."""

from __future__ import annotations

import json
import os

import click

from contextrecall.cli.common import RecallError, State, one_line_errors

HIDDEN = "********"


def _shown(value: object, secret: bool) -> object:
    return HIDDEN if secret and value else value


@click.group("config", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
@one_line_errors
def config(ctx: click.Context, as_json: bool) -> None:
    """Show the settings in effect, each with its source: environment, file or default.
    The environment overrides the file, which overrides the defaults."""
    if ctx.invoked_subcommand is not None:
        return
    from contextrecall import config_file
    from contextrecall.settings import FIELDS

    state: State = ctx.obj
    settings = state.settings
    path = config_file.current_path()
    in_file = config_file.read_values(path)
    rows = []
    for field in FIELDS:
        source = (
            "environment"
            if os.environ.get(field.env)
            else "file"
            if in_file.get(field.env)
            else "default"
        )
        rows.append(
            {
                "variable": field.env,
                "value": _shown(getattr(settings, field.name), field.secret),
                "source": source,
            }
        )
    unknown = sorted(set(in_file) - {field.env for field in FIELDS})
    if as_json:
        report = {"file": str(path), "exists": path.exists(), "settings": rows}
        click.echo(json.dumps({**report, "unknown": unknown}, indent=2, default=str))
        return
    click.echo(f"configuration file: {path}{'' if path.exists() else ' (not written yet)'}")
    width = max(len(row["variable"]) for row in rows)
    for row in rows:
        value = "" if row["value"] is None else row["value"]
        click.echo(f"  {row['variable']:<{width}}  {row['source']:<11}  {value}")
    for name in unknown:
        click.echo(f"recall: warning: {path} sets {name}, which is no setting", err=True)


@config.command("path")
def config_path() -> None:
    """Print where the configuration file is (RECALL_CONFIG names another)."""
    from contextrecall import config_file

    click.echo(str(config_file.current_path()))


@config.command("set")
@click.argument("name")
@click.argument("value")
@one_line_errors
def config_set(name: str, value: str) -> None:
    """Set NAME (RECALL_DATABASE_URL, or database_url) to VALUE in the configuration file."""
    from contextrecall import config_file

    field = config_file.field_named(name)
    if not value:
        raise RecallError(f"an empty value unsets: recall config unset {field.env}")
    path = config_file.current_path()
    config_file.write_values(path, {field.env: value})
    click.echo(f"{field.env} set in {path}")
    if os.environ.get(field.env) and os.environ[field.env] != value:
        click.echo(f"recall: note: {field.env} in this environment still overrides it", err=True)


@config.command("unset")
@click.argument("name")
@one_line_errors
def config_unset(name: str) -> None:
    """Remove NAME from the configuration file (its default, or the environment, applies)."""
    from contextrecall import config_file

    field = config_file.field_named(name)
    path = config_file.current_path()
    if field.env not in config_file.read_values(path):
        click.echo(f"{field.env} is not in {path}; nothing changed")
        return
    config_file.write_values(path, {field.env: None})
    click.echo(f"{field.env} removed from {path}")
