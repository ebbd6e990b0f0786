"""What `recall install` changes in Claude Code's settings.json: pure functions over dicts.

Claude Code reads ``{"hooks": {Event: [{"matcher": ..., "hooks": [{"type": "command",
"command": ..., "timeout": seconds}]}]}}``. Context Recall adds one matcher group per event
(no matcher: every source and trigger) running ``recall hook``, and recognises its own entries
by that command, so install is idempotent and uninstall touches nothing else.

An install ``Plan`` also carries ``mcp_servers``: the ``recall mcp`` server, registered by name
under ``"mcpServers"``. Claude Code reads those from another file than the hooks (the top level of
``~/.claude.json`` for the user scope, ``.mcp.json`` at the repository root for the project
scope, ``"projects"."<repository root>"`` of ``~/.claude.json`` for the local scope), so they have
their own merge, ``install_mcp_servers`` / ``uninstall_mcp_servers``, whose ``project`` argument
picks that project entry. The file layer is ``contextrecall.install.files``.
"""

from __future__ import annotations

import copy
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Seconds Claude Code lets each hook run. The hook itself gives up long before (it always
# exits 0 quickly); these only bound a pathological stall.
HOOK_TIMEOUTS: dict[str, int] = {
    "SessionStart": 15,
    "UserPromptSubmit": 10,
    "Stop": 15,
    "SubagentStop": 15,
    "PreCompact": 15,
    "SessionEnd": 15,
}
HOOK_EVENTS = tuple(HOOK_TIMEOUTS)
MCP_SERVERS_KEY = "mcpServers"
PROJECTS_KEY = "projects"  # ~/.claude.json: per-project state, local-scope MCP servers among it
MCP_SERVER_NAME = "context-recall"


class SettingsFormatError(ValueError):
    """The settings document is not shaped like Claude Code's settings.json."""


@dataclass(frozen=True)
class Plan:
    """Everything install adds: a command per hook event and MCP servers by name."""

    command: str
    timeouts: Mapping[str, int] = field(default_factory=lambda: dict(HOOK_TIMEOUTS))
    mcp_servers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def hook_entry(self, event: str) -> dict[str, Any]:
        return {"type": "command", "command": self.command, "timeout": self.timeouts[event]}


def mcp_server_entry(recall_executable: str | None) -> dict[str, Any]:
    """How Claude Code starts ``recall mcp``: a stdio server, no shell in between."""
    return {"type": "stdio", "command": recall_executable or "recall", "args": ["mcp"], "env": {}}


def is_recall_mcp_server(spec: Any) -> bool:
    """True for an MCP server entry that runs ``recall mcp`` (any path to ``recall``)."""
    return (
        isinstance(spec, Mapping)
        and isinstance(spec.get("command"), str)
        and os.path.basename(spec["command"]) == "recall"
        and spec.get("args") == ["mcp"]
    )


def hook_command(recall_executable: str | None) -> str:
    """The shell command Claude Code runs: ``<recall> hook``, the path quoted if needed."""
    return f"{shlex.quote(recall_executable) if recall_executable else 'recall'} hook"


def is_recall_hook(entry: Any) -> bool:
    """True for a hook entry whose command runs ``recall hook`` (any path to ``recall``)."""
    if not isinstance(entry, Mapping) or not isinstance(entry.get("command"), str):
        return False
    command = entry["command"].strip()
    try:
        words = shlex.split(command)
    except ValueError:
        return command.endswith("recall hook")
    return len(words) >= 2 and words[-1] == "hook" and os.path.basename(words[-2]) == "recall"


def validate(document: Any) -> dict[str, Any]:
    """``document`` itself if it can take our entries, else SettingsFormatError."""
    if not isinstance(document, dict):
        raise SettingsFormatError("the top level is not a JSON object")
    hooks = document.get("hooks", {})
    if not isinstance(hooks, dict):
        raise SettingsFormatError('"hooks" is not a JSON object')
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            raise SettingsFormatError(f'"hooks"."{event}" is not a JSON array')
    return document


def validate_mcp_config(document: Any, *, project: str | None = None) -> dict[str, Any]:
    """``document`` itself if it can take an MCP server entry (at the top level, or in the entry
    of ``project`` under ``"projects"``), else SettingsFormatError."""
    if not isinstance(document, dict):
        raise SettingsFormatError("the top level is not a JSON object")
    if project is None:
        holder, where = document, ""
    else:
        projects = document.get(PROJECTS_KEY, {})
        if not isinstance(projects, dict):
            raise SettingsFormatError(f'"{PROJECTS_KEY}" is not a JSON object')
        holder, where = projects.get(project, {}), f'"{PROJECTS_KEY}"."{project}"'
        if not isinstance(holder, dict):
            raise SettingsFormatError(f"{where} is not a JSON object")
        where += "."
    if not isinstance(holder.get(MCP_SERVERS_KEY, {}), dict):
        raise SettingsFormatError(f'{where}"{MCP_SERVERS_KEY}" is not a JSON object')
    return document


def _ours_in(groups: list[Any]) -> list[Any]:
    return [
        entry
        for group in groups
        if isinstance(group, Mapping) and isinstance(group.get("hooks"), list)
        for entry in group["hooks"]
        if is_recall_hook(entry)
    ]


def _without_ours(groups: list[Any]) -> list[Any]:
    """``groups`` minus our entries; a group left with no hooks goes too."""
    kept = []
    for group in groups:
        if isinstance(group, Mapping) and isinstance(group.get("hooks"), list):
            entries = [entry for entry in group["hooks"] if not is_recall_hook(entry)]
            if len(entries) != len(group["hooks"]):
                if not entries:
                    continue
                group = {**group, "hooks": entries}
        kept.append(group)
    return kept


def install(document: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """A copy of the settings ``document`` with the plan's hooks in it.

    An event already holding exactly our entry is left as it is; a stale entry of ours (an
    old path or timeout, or a duplicate) is replaced by one new group at the end.
    """
    result = copy.deepcopy(validate(document))
    hooks = result.setdefault("hooks", {})
    for event in plan.timeouts:
        groups = hooks.get(event, [])
        wanted = plan.hook_entry(event)
        if _ours_in(groups) == [wanted]:
            continue
        hooks[event] = [*_without_ours(groups), {"hooks": [wanted]}]
    return result


def install_mcp_servers(
    document: dict[str, Any], plan: Plan, *, project: str | None = None
) -> dict[str, Any]:
    """A copy of the MCP config ``document`` with the plan's servers in it (replaced by name):
    at the top level, or in the entry of ``project`` under ``"projects"`` (created if absent,
    its other keys kept)."""
    result = copy.deepcopy(validate_mcp_config(document, project=project))
    if plan.mcp_servers:
        holder = result
        if project is not None:
            holder = result.setdefault(PROJECTS_KEY, {}).setdefault(project, {})
        servers = holder.setdefault(MCP_SERVERS_KEY, {})
        for name, spec in plan.mcp_servers.items():
            servers[name] = copy.deepcopy(dict(spec))
    return result


def _without_our_servers(holder: dict[str, Any], plan: Plan) -> bool:
    """Remove the plan's ``recall mcp`` servers from ``holder`` in place (and its
    ``"mcpServers"`` when that removal emptied it); True when something was removed."""
    servers = holder.get(MCP_SERVERS_KEY)
    if not isinstance(servers, dict):
        return False
    removed = [name for name in plan.mcp_servers if is_recall_mcp_server(servers.get(name))]
    for name in removed:
        del servers[name]
    if removed and not servers:
        del holder[MCP_SERVERS_KEY]
    return bool(removed)


def uninstall_mcp_servers(
    document: dict[str, Any], plan: Plan, *, project: str | None = None
) -> dict[str, Any]:
    """A copy of the MCP config ``document`` without the plan's servers, when they run
    ``recall mcp`` (a foreign server of the same name stays); an emptied ``"mcpServers"`` goes
    too. With ``project``, only that project's entry under ``"projects"`` is looked at; the
    entry (and ``"projects"``) goes as well when this removal left it empty."""
    result = copy.deepcopy(validate_mcp_config(document, project=project))
    if project is None:
        _without_our_servers(result, plan)
        return result
    projects = result.get(PROJECTS_KEY)
    if isinstance(projects, dict):
        entry = projects.get(project)
        if isinstance(entry, dict) and _without_our_servers(entry, plan) and not entry:
            del projects[project]
            if not projects:
                del result[PROJECTS_KEY]
    return result


def installed_mcp_servers(document: Mapping[str, Any], *, project: str | None = None) -> list[str]:
    """Names of the MCP servers in ``document`` (at the top level, or in the entry of
    ``project`` under ``"projects"``) that run ``recall mcp``."""
    holder: Any = document
    if project is not None:
        projects = document.get(PROJECTS_KEY)
        holder = projects.get(project) if isinstance(projects, Mapping) else None
    servers = holder.get(MCP_SERVERS_KEY) if isinstance(holder, Mapping) else None
    if not isinstance(servers, Mapping):
        return []
    return [name for name, spec in servers.items() if is_recall_mcp_server(spec)]


def uninstall(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the settings ``document`` without any ``recall hook`` entry.

    Structures emptied by the removal (a group, an event, ``"hooks"``) are removed too; ones
    that were empty before are left alone.
    """
    result = copy.deepcopy(validate(document))
    hooks = result.get("hooks")
    if isinstance(hooks, dict):
        for event, groups in list(hooks.items()):
            if not _ours_in(groups):
                continue
            remaining = _without_ours(groups)
            if remaining:
                hooks[event] = remaining
            else:
                del hooks[event]
        if not hooks and "hooks" in document and document["hooks"]:
            del result["hooks"]
    return result


def installed_events(document: Mapping[str, Any]) -> list[str]:
    """The hook events holding a ``recall hook`` entry."""
    hooks = document.get("hooks")
    if not isinstance(hooks, Mapping):
        return []
    return [
        event for event, groups in hooks.items() if isinstance(groups, list) and _ours_in(groups)
    ]
