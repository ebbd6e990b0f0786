"""`recall install` on disk: find Claude Code's settings.json, back it up, write it atomically.

The hooks go to settings.json; the ``recall mcp`` server goes where Claude Code reads MCP servers
of the same scope: ``~/.claude.json`` (user) or ``.mcp.json`` at the repository root (project).

The merge itself is pure (``contextrecall.install.merge``); this layer only reads, compares and
writes, so a second install finds nothing to change and leaves the file (and backups) alone.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contextrecall.identity import git_toplevel
from contextrecall.install import merge as install

SCOPES = ("user", "project")


@dataclass(frozen=True)
class Outcome:
    """What an install or uninstall did to one settings file."""

    path: Path
    changed: bool
    backup: Path | None
    events: list[str]


def settings_path(scope: str, cwd: Path | None = None) -> Path:
    """``~/.claude/settings.json`` (user) or ``.claude/settings.json`` of the repository
    holding ``cwd``, else of ``cwd`` itself (project)."""
    if scope == "user":
        return Path.home() / ".claude" / "settings.json"
    if scope == "project":
        start = (cwd or Path.cwd()).resolve()
        return Path(git_toplevel(str(start)) or start) / ".claude" / "settings.json"
    raise ValueError(f"unknown scope {scope!r} (expected one of {', '.join(SCOPES)})")


def mcp_config_path(scope: str, cwd: Path | None = None) -> Path:
    """Where Claude Code reads MCP servers of ``scope``: ``~/.claude.json`` (user) or
    ``.mcp.json`` at the root of the repository holding ``cwd``, else of ``cwd`` (project)."""
    if scope == "user":
        return Path.home() / ".claude.json"
    return settings_path(scope, cwd).parent.parent / ".mcp.json"


def recall_executable() -> str | None:
    """The ``recall`` script beside this interpreter (the venv's), if there is one."""
    candidate = Path(sys.executable).parent / "recall"
    return str(candidate.absolute()) if os.access(candidate, os.X_OK) else None


def default_plan() -> install.Plan:
    """``recall hook`` on every event, and the ``recall mcp`` server, by this venv's path."""
    executable = recall_executable()
    return install.Plan(
        command=install.hook_command(executable),
        mcp_servers={install.MCP_SERVER_NAME: install.mcp_server_entry(executable)},
    )


def read_document(
    path: Path, validate: Callable[[Any], dict[str, Any]] = install.validate
) -> dict[str, Any] | None:
    """The parsed settings file (None when absent); SettingsFormatError when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise install.SettingsFormatError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "fix it or move it away, nothing was changed"
        ) from exc
    try:
        return validate(document)
    except install.SettingsFormatError as exc:
        raise install.SettingsFormatError(f"{path}: {exc}; nothing was changed") from exc


def backup(path: Path) -> Path:
    """Copy ``path`` to ``<name>.bak-<UTC time>`` beside it (a fresh name, never overwritten)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target, n = path.with_name(f"{path.name}.bak-{stamp}"), 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.bak-{stamp}-{n}")
    data = path.read_bytes()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, path.stat().st_mode & 0o777)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return target


def write_atomically(path: Path, document: dict[str, Any], new_mode: int = 0o644) -> None:
    """Replace ``path`` with ``document`` as JSON in one rename, keeping its permissions
    (``new_mode`` for a new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else new_mode
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _apply(
    path: Path,
    change: Any,
    *,
    create: bool,
    validate: Callable[[Any], dict[str, Any]] = install.validate,
    listed: Callable[[dict[str, Any]], list[str]] = install.installed_events,
    new_mode: int = 0o644,
) -> Outcome:
    before = read_document(path, validate)
    if before is None and not create:
        return Outcome(path, False, None, [])
    after = change(before or {})
    if before is not None and after == before:
        return Outcome(path, False, None, listed(after))
    saved = backup(path) if before is not None else None
    write_atomically(path, after, new_mode)
    return Outcome(path, True, saved, listed(after))


def install_into(path: Path, plan: install.Plan | None = None) -> Outcome:
    """Merge the plan (default: ``recall hook`` on every event) into the file at ``path``."""
    plan = plan or default_plan()
    return _apply(path, lambda document: install.install(document, plan), create=True)


def uninstall_from(path: Path) -> Outcome:
    """Remove every ``recall hook`` entry from ``path``."""
    return _apply(path, install.uninstall, create=False)


def preflight(settings: Path, mcp_config: Path | None) -> None:
    """SettingsFormatError before anything is written when either file is unusable."""
    read_document(settings)
    if mcp_config is not None:
        read_document(mcp_config, install.validate_mcp_config)


def register_mcp_server(path: Path, plan: install.Plan | None = None) -> Outcome:
    """Add the plan's MCP servers (default: ``recall mcp``) to the MCP config at ``path``;
    ``events`` of the outcome lists the ``recall mcp`` servers registered there."""
    plan = plan or default_plan()
    return _apply(
        path,
        lambda document: install.install_mcp_servers(document, plan),
        create=True,
        validate=install.validate_mcp_config,
        listed=install.installed_mcp_servers,
        new_mode=0o600,  # ~/.claude.json also holds Claude Code's account state
    )


def unregister_mcp_server(path: Path, plan: install.Plan | None = None) -> Outcome:
    """Remove the plan's ``recall mcp`` servers from the MCP config at ``path``."""
    plan = plan or default_plan()
    return _apply(
        path,
        lambda document: install.uninstall_mcp_servers(document, plan),
        create=False,
        validate=install.validate_mcp_config,
        listed=install.installed_mcp_servers,
    )
