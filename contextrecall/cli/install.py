"""Claude Code settings: ``install`` adds the ``recall hook`` entries and the ``recall mcp``
server; ``uninstall`` removes them and nothing else."""

from __future__ import annotations

from pathlib import Path

import click

from contextrecall.cli.common import RecallError

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
    from contextrecall.install import files as installer
    from contextrecall.install.merge import SettingsFormatError

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


@click.command("install")
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


@click.command("uninstall")
@scope_option
@settings_file_option
@mcp_config_option
@no_mcp_option
def uninstall_command(
    scope: str, settings_file: Path | None, mcp_config: Path | None, no_mcp: bool
) -> None:
    """Remove Context Recall's hook entries and its MCP server registration, nothing else."""
    _change_claude_code(scope, settings_file, mcp_config, no_mcp, install=False)
