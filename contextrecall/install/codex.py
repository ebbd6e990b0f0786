"""`recall install --agent codex`: the Codex CLI's hooks and MCP server.

Codex reads hooks from ``$CODEX_HOME/hooks.json`` (``~/.codex`` by default) in Claude Code's
shape (``{"hooks": {Event: [{"hooks": [{"type": "command", "command", "timeout"}]}]}}``,
timeouts in seconds), so the hooks merge is Claude Code's (``install.merge``); its events are
SessionStart and UserPromptSubmit (context), Stop and PreCompact (saves). The ``recall mcp``
server goes in ``$CODEX_HOME/config.toml`` as ``[mcp_servers.context-recall]``, inside a block
marked as ours, so uninstall removes exactly that. Codex runs a new hook only once the user
has reviewed it (`/hooks` in the TUI), or with ``--dangerously-bypass-hook-trust``.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

from contextrecall.install.merge import MCP_SERVER_NAME, Plan

CODEX_HOME_ENV = "CODEX_HOME"  # Codex's own variable, read here like CLAUDE_CONFIG_DIR
HOOK_TIMEOUTS = {"SessionStart": 15, "UserPromptSubmit": 10, "Stop": 15, "PreCompact": 15}
BEGIN = "# context-recall: begin (written by `recall install --agent codex`)"
END = "# context-recall: end"
_BLOCK = re.compile(rf"\n?{re.escape(BEGIN)}\n.*?{re.escape(END)}\n?", re.S)


def codex_home() -> Path:
    value = os.environ.get(CODEX_HOME_ENV, "")
    return Path(value).absolute() if value.strip() else Path.home() / ".codex"


def hooks_path() -> Path:
    return codex_home() / "hooks.json"


def config_path() -> Path:
    return codex_home() / "config.toml"


def plan(command: str, recall_executable: str | None) -> Plan:
    """The hooks (the ``recall mcp`` server goes in config.toml: ``change_mcp``)."""
    return Plan(command=command, timeouts=dict(HOOK_TIMEOUTS))


mcp_path = config_path  # where ``change_mcp`` registers the server
TRUST_NOTE = (
    "Codex runs new hooks once you review them: start `codex` and trust them with /hooks "
    "(`codex exec` runs them with --dangerously-bypass-hook-trust)"
)


def mcp_block(recall_executable: str | None) -> str:
    """Our ``[mcp_servers.context-recall]`` table, between its markers."""
    command = json.dumps(recall_executable or "recall")  # a TOML basic string is JSON's
    return f'{BEGIN}\n[mcp_servers.{MCP_SERVER_NAME}]\ncommand = {command}\nargs = ["mcp"]\n{END}\n'


def with_mcp(text: str, recall_executable: str | None) -> str:
    """``config.toml``'s text with our block (replacing an older one of ours), or ValueError
    when the file is not TOML or names a server of that name outside our block."""
    rest = _BLOCK.sub("\n", text).rstrip("\n")
    _check(rest)
    if MCP_SERVER_NAME in tomllib.loads(rest).get("mcp_servers", {}):
        raise ValueError(
            f"{config_path()} already has an [mcp_servers.{MCP_SERVER_NAME}] of its own; "
            "remove it, or install with --no-mcp"
        )
    result = (rest + "\n\n" if rest else "") + mcp_block(recall_executable)
    _check(result)
    return result


def without_mcp(text: str) -> str:
    """``config.toml``'s text without our block."""
    rest = _BLOCK.sub("\n", text)
    return rest.strip("\n") + "\n" if rest.strip() else ""


def _check(text: str) -> None:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{config_path()} is not valid TOML: {exc}") from exc


def change_mcp(install: bool, recall_executable: str | None, backups: Path | None) -> bool:
    """Add (or remove) our block in ``config.toml``, backing the file up first; whether it
    changed."""
    from contextrecall.install.files import backup
    from contextrecall.small_files import replace_text

    path = config_path()
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    after = with_mcp(before, recall_executable) if install else without_mcp(before)
    if after == before:
        return False
    if path.exists():
        backup(path, backups)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_text(str(path), after)
    return True
