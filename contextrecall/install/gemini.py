"""`recall install --agent gemini`: the Gemini CLI's hooks and MCP server.

Gemini CLI reads both from ``~/.gemini/settings.json`` (``$GEMINI_CLI_HOME/.gemini`` when set)
in Claude Code's shape (``{"hooks": {Event: [{"hooks": [{"type": "command", "command",
"timeout"}]}]}, "mcpServers": {…}}``), with timeouts in milliseconds; so the merges are
Claude Code's (``install.merge``). Its events: SessionStart and BeforeAgent (context),
AfterAgent, PreCompress and SessionEnd (saves). It runs hooks only in a folder the user
trusts (or with ``--skip-trust`` / ``GEMINI_CLI_TRUST_WORKSPACE=true``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from contextrecall.install.merge import MCP_SERVER_NAME, Plan

GEMINI_HOME_ENV = "GEMINI_CLI_HOME"  # Gemini CLI's own variable: the folder holding .gemini
HOOK_TIMEOUTS = {  # milliseconds
    "SessionStart": 15_000,
    "BeforeAgent": 10_000,
    "AfterAgent": 15_000,
    "PreCompress": 15_000,
    "SessionEnd": 15_000,
}


TRUST_NOTE = "Gemini CLI runs hooks in folders you trust (`/permissions` trusts one)"


def settings_path() -> Path:
    value = os.environ.get(GEMINI_HOME_ENV, "")
    home = Path(value).absolute() if value.strip() else Path.home()
    return home / ".gemini" / "settings.json"


def mcp_server_entry(recall_executable: str | None) -> dict[str, Any]:
    """How Gemini CLI starts ``recall mcp``: a stdio server (its ``type`` is for HTTP ones)."""
    return {"command": recall_executable or "recall", "args": ["mcp"]}


def plan(command: str, recall_executable: str | None) -> Plan:
    return Plan(
        command=command,
        timeouts=dict(HOOK_TIMEOUTS),
        mcp_servers={MCP_SERVER_NAME: mcp_server_entry(recall_executable)},
    )


hooks_path = mcp_path = settings_path  # one file holds both


def change_mcp(install: bool, recall_executable: str | None, backups: Path | None) -> bool:
    """Add (or remove) the ``recall mcp`` server in settings.json; whether it changed."""
    from contextrecall.install import files

    change = files.register_mcp_server if install else files.unregister_mcp_server
    entry = plan("", recall_executable)
    return change(settings_path(), entry, backups=backups).changed
