"""Claude Code settings: ``install`` adds the ``recall hook`` entries and the ``recall mcp``
server; ``uninstall`` removes them and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from contextrecall.cli.common import RecallError

if TYPE_CHECKING:
    from contextrecall.install.files import Outcome

SCOPES = ("user", "project", "local")  # contextrecall.install.files.SCOPES, not imported here:
# the command line loads the install modules only when install or uninstall runs

scope_option = click.option(
    "--scope",
    type=click.Choice(SCOPES),
    default="user",
    show_default=True,
    help="user: ~/.claude/settings.json and ~/.claude.json (or $CLAUDE_CONFIG_DIR); "
    "project: .claude/settings.json and .mcp.json of this repository, shared through git, "
    "naming the bare `recall`; local: .claude/settings.local.json of this repository and its "
    "entry in ~/.claude.json, for this machine only.",
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
    help="The `recall mcp` server goes in this file's top-level mcpServers instead of where "
    "--scope puts it (user: ~/.claude.json; project: .mcp.json of this repository; local: "
    "this repository's entry in ~/.claude.json).",
)
no_mcp_option = click.option(
    "--no-mcp", is_flag=True, help="Hooks only: leave the MCP server registration alone."
)
agent_option = click.option(
    "--agent",
    type=click.Choice(["claude", "codex", "gemini"]),
    default="claude",
    show_default=True,
    help="claude: Claude Code (--scope, --settings and --mcp-config apply); codex: the Codex "
    "CLI, its $CODEX_HOME/hooks.json (~/.codex) and config.toml's [mcp_servers.context-recall]; "
    "gemini: the Gemini CLI, its ~/.gemini/settings.json.",
)


def _report_hooks(outcome: Outcome, path: Path, install: bool) -> None:
    """What an install or uninstall did to the hooks of one settings file."""
    if install:
        done = f"installed `recall hook` for {', '.join(outcome.events)} in {path}"
        unchanged = f"already installed in {path}; nothing changed"
    else:
        done = f"removed Context Recall hooks from {path}"
        unchanged = f"no Context Recall hooks in {path}; nothing changed"
    click.echo(done if outcome.changed else unchanged)
    if outcome.changed:
        _echo_outcome(outcome)


def _change_agent(agent: str, no_mcp: bool, *, install: bool) -> None:
    """Install (or uninstall) Codex's or Gemini CLI's hooks and MCP server, reporting each
    file."""
    from contextrecall.install import codex, gemini
    from contextrecall.install import files as installer
    from contextrecall.install.merge import hook_command

    if install and (problem := installer.unsupported_platform()):
        raise RecallError(problem)
    files = codex if agent == "codex" else gemini
    executable = installer.recall_executable()
    path = files.hooks_path()
    try:
        backups = installer.backups_dir()
        if install:
            plan = files.plan(hook_command(executable), executable)
            outcome = installer.install_into(path, plan, backups=backups)
        else:
            outcome = installer.uninstall_from(path, backups=backups)
        mcp = None if no_mcp else files.change_mcp(install, executable, backups)
    except (OSError, ValueError) as exc:
        raise RecallError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    _report_hooks(outcome, path, install)
    where = files.mcp_path()
    if mcp:
        click.echo(
            f"registered the `recall mcp` server as context-recall in {where}"
            if install
            else f"removed the `recall mcp` server from {where}"
        )
    elif mcp is not None and install:
        click.echo(f"`recall mcp` already registered in {where}; nothing changed")
    if install and outcome.changed:
        click.echo(files.TRUST_NOTE)


def _mcp_target(
    scope: str, settings_file: Path | None, mcp_config: Path | None, no_mcp: bool
) -> tuple[Path | None, str | None]:
    """Where the MCP server entry goes (file, and project entry in it for the local scope),
    or None: not asked for, or an explicit --settings file alone (which promises to edit that
    file only)."""
    from contextrecall.install.files import mcp_config_path, mcp_project

    if no_mcp or (settings_file and not mcp_config):
        return None, None
    if mcp_config:
        return mcp_config, None
    return mcp_config_path(scope), mcp_project(scope)


def _echo_outcome(outcome: Outcome) -> None:
    if outcome.backup:
        click.echo(f"backup: {outcome.backup}")
    if outcome.deleted:
        click.echo(f"deleted {outcome.path}: nothing else was in it")
    for directory in outcome.removed_dirs:
        click.echo(f"removed the empty directory {directory}")


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

    if install and (problem := installer.unsupported_platform()):
        raise RecallError(problem)
    if install and (plugin := installer.enabled_plugin()):
        scope_on, where = plugin[0]
        raise RecallError(
            f"the {installer.PLUGIN_NAME} plugin is enabled ({scope_on} scope, {where}) and "
            "already runs the hooks and the MCP server; installing them too would run each "
            f"twice (to use `recall install` instead: claude plugin disable "
            f"{installer.PLUGIN_NAME})"
        )
    try:
        path = settings_file or installer.settings_path(scope)
        mcp_path, project = _mcp_target(scope, settings_file, mcp_config, no_mcp)
        plan = installer.plan_for(scope)
        backups = installer.backups_dir()
        installer.preflight(path, mcp_path, project=project)
        if install:
            outcome = installer.install_into(path, plan, backups=backups)
        else:
            outcome = installer.uninstall_from(path, backups=backups)
        mcp_change = installer.register_mcp_server if install else installer.unregister_mcp_server
        mcp = mcp_change(mcp_path, plan, project=project, backups=backups) if mcp_path else None
    except (OSError, ValueError, RuntimeError) as exc:  # SettingsFormatError is a ValueError
        raise RecallError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    _report_hooks(outcome, path, install)
    if install and not settings_file:
        for other, other_path, _ in installer.installed_hooks():
            if other != scope and other_path != path:
                click.echo(
                    f"note: `recall hook` is also in {other_path} ({other} scope) and Claude Code "
                    f"runs both; `recall uninstall --scope {other}` removes that one"
                )
    if mcp is None or mcp_path is None:
        return
    where = f"{mcp_path} (project {project})" if project else str(mcp_path)
    if not mcp.changed:
        state = "`recall mcp` already registered in" if install else "no `recall mcp` server in"
        click.echo(f"{state} {where}; nothing changed")
        return
    if install:
        click.echo(f"registered the `recall mcp` server as {', '.join(mcp.events)} in {where}")
    else:
        click.echo(f"removed the `recall mcp` server from {where}")
    _echo_outcome(mcp)


@click.command("install")
@agent_option
@scope_option
@settings_file_option
@mcp_config_option
@no_mcp_option
def install_command(
    agent: str, scope: str, settings_file: Path | None, mcp_config: Path | None, no_mcp: bool
) -> None:
    """Add the `recall hook` entries to the agent's settings (Claude Code's, or Codex's) and
    register the `recall mcp` server (keeps everything else); record this environment's
    RECALL_* variables in the configuration file, so every process agrees. Not on Windows:
    the hook needs POSIX (use WSL)."""
    if agent != "claude":
        _only_claude_options(agent, scope, settings_file, mcp_config)
        _change_agent(agent, no_mcp, install=True)
    else:
        _change_claude_code(scope, settings_file, mcp_config, no_mcp, install=True)
    _record_configuration()
    _learn_store()
    click.echo(
        "a worker starts with the first hook that has work (`recall status` shows it); "
        "no need to start one"
    )


def _only_claude_options(
    agent: str, scope: str, settings_file: Path | None, mcp_config: Path | None
) -> None:
    if scope != "user" or settings_file or mcp_config:
        where = "Codex's files are in $CODEX_HOME (~/.codex)"
        if agent == "gemini":
            where = "Gemini CLI's are in ~/.gemini/settings.json"
        raise RecallError(f"--scope, --settings and --mcp-config are Claude Code's; {where}")


def _learn_store() -> None:
    """Learn which store this configuration writes to, if its database can say now (else a
    worker or `recall status` learns it later): hooks heed only that store's confirmations."""
    from contextrecall.client.own_store import learn_store
    from contextrecall.maintenance.status import no_database_yet
    from contextrecall.settings import get_settings

    settings = get_settings()
    if no_database_yet(settings):
        return  # made by the first hook's worker, which learns it
    try:
        click.echo(f"store {learn_store(settings)}")
    except Exception:  # not reachable or not migrated yet: learned later
        return


def _record_configuration() -> None:
    """Write the RECALL_* variables of this environment into the configuration file."""
    from contextrecall import config_file

    try:
        path = config_file.current_path()
        wanted = config_file.environment_values()
        recorded = config_file.read_values(path)
        changed = {k: v for k, v in wanted.items() if recorded.get(k) != v}
        if changed:
            config_file.write_values(path, changed)
            click.echo(f"recorded {', '.join(sorted(changed))} in {path}")
        else:
            click.echo(f"configuration: {path}" + ("" if path.exists() else " (defaults)"))
    except (OSError, ValueError) as exc:
        raise RecallError(f"configuration file: {exc}") from exc


@click.command("uninstall")
@agent_option
@scope_option
@settings_file_option
@mcp_config_option
@no_mcp_option
def uninstall_command(
    agent: str, scope: str, settings_file: Path | None, mcp_config: Path | None, no_mcp: bool
) -> None:
    """Remove Context Recall's hook entries and its MCP server registration, nothing else,
    and stop the worker a hook started (the memory stays)."""
    if agent != "claude":
        _only_claude_options(agent, scope, settings_file, mcp_config)
        _change_agent(agent, no_mcp, install=False)
    else:
        _change_claude_code(scope, settings_file, mcp_config, no_mcp, install=False)
    from contextrecall.client.autostart import stop_worker
    from contextrecall.settings import get_settings

    try:
        stopped = stop_worker(get_settings())
    except (OSError, ValueError) as exc:
        raise RecallError(f"could not stop the worker: {exc}") from exc
    if stopped:
        click.echo(f"stopped the worker (pid {stopped})")
