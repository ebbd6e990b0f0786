"""`recall install` on disk: find Claude Code's settings files, back them up, write them atomically.

Three scopes, as Claude Code has them (hooks; the ``recall mcp`` server):

- user: ``~/.claude/settings.json``; the top-level ``mcpServers`` of ``~/.claude.json``;
- project: ``<repo>/.claude/settings.json``; ``<repo>/.mcp.json`` (both shared through git);
- local: ``<repo>/.claude/settings.local.json`` (personal, git-ignored); the ``mcpServers`` of
  ``"projects"."<repo>"`` in ``~/.claude.json``.

``<repo>`` is the root of the git repository holding the working directory, else that directory.
With ``CLAUDE_CONFIG_DIR`` set (Claude Code's variable), ``~/.claude`` and ``~/.claude.json`` are
``$CLAUDE_CONFIG_DIR`` and ``$CLAUDE_CONFIG_DIR/.claude.json``. The files of the project scope are
shared through git, so they name the bare ``recall`` command; the other two name this venv's
``recall`` by its absolute path.

The merge itself is pure (``contextrecall.install.merge``); this layer only reads, compares and
writes, so a second install finds nothing to change and leaves the file (and backups) alone.
Backups go under ``$RECALL_HOME/backups``, never beside the file (which may be in a repository),
and an uninstall that leaves a file of ours empty deletes it (and an emptied ``.claude/``), except
Claude Code's own ``.claude.json``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from contextrecall.identity import git_toplevel
from contextrecall.install import merge as install

SCOPES = ("user", "project", "local")
PLUGIN_NAME = "context-recall"  # plugin/.claude-plugin/plugin.json: `<name>@<marketplace>`
SHARED_SCOPES = ("project",)  # files committed to git: the bare `recall`, never a machine path
CLAUDE_CONFIG_DIR_ENV = "CLAUDE_CONFIG_DIR"
USER_CONFIG_NAME = ".claude.json"  # Claude Code's own state file: never deleted
BACKUPS = "backups"
UNSUPPORTED_WINDOWS = "Windows is not supported: the hook needs fcntl and SIGALRM (POSIX); use WSL"


@dataclass(frozen=True)
class Outcome:
    """What an install or uninstall did to one settings file."""

    path: Path
    changed: bool
    backup: Path | None
    events: list[str]
    deleted: bool = False  # the uninstall left it empty, so the file is gone
    removed_dirs: list[Path] = field(default_factory=list)  # emptied `.claude/` removed with it


def os_name() -> str:
    """``os.name`` (a function, so a test can pretend to be Windows)."""
    return os.name


def unsupported_platform() -> str | None:
    """Why ``recall install`` cannot work on this platform, or None when it can."""
    return UNSUPPORTED_WINDOWS if os_name() == "nt" else None


def claude_config_dir() -> Path | None:
    """``$CLAUDE_CONFIG_DIR`` when set (else None).

    This is Claude Code's own environment variable (where it keeps its user settings and
    ``.claude.json``), not one of Context Recall's ``RECALL_*`` settings, which is why it is
    read here and not through ``contextrecall.settings``.
    """
    value = os.environ.get(CLAUDE_CONFIG_DIR_ENV, "")
    return Path(value).absolute() if value.strip() else None


def user_settings_path() -> Path:
    """``$CLAUDE_CONFIG_DIR/settings.json``, else ``~/.claude/settings.json``."""
    return (claude_config_dir() or Path.home() / ".claude") / "settings.json"


def user_config_path() -> Path:
    """Claude Code's user config (user- and local-scope MCP servers, per-project state):
    ``$CLAUDE_CONFIG_DIR/.claude.json``, else ``~/.claude.json``."""
    directory = claude_config_dir()
    return (directory if directory is not None else Path.home()) / USER_CONFIG_NAME


def project_root(cwd: Path | None = None) -> Path:
    """The root of the git repository holding ``cwd`` (default: the working directory), else
    ``cwd`` itself, absolute."""
    start = (cwd or Path.cwd()).resolve()
    return Path(git_toplevel(str(start)) or start)


def _check_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r} (expected one of {', '.join(SCOPES)})")


def settings_path(scope: str, cwd: Path | None = None) -> Path:
    """The settings file holding the hooks of ``scope`` (see the module's table)."""
    _check_scope(scope)
    if scope == "user":
        return user_settings_path()
    name = "settings.json" if scope == "project" else "settings.local.json"
    return project_root(cwd) / ".claude" / name


def mcp_config_path(scope: str, cwd: Path | None = None) -> Path:
    """Where Claude Code reads MCP servers of ``scope``: ``.mcp.json`` at the project root
    (project), else its user config (user and local; local ones sit under the project's entry,
    see ``mcp_project``)."""
    _check_scope(scope)
    if scope == "project":
        return project_root(cwd) / ".mcp.json"
    return user_config_path()


def mcp_project(scope: str, cwd: Path | None = None) -> str | None:
    """The key under ``"projects"`` of the user config holding the MCP servers of ``scope``:
    the project root's absolute path for the local scope, None (the top level) otherwise."""
    _check_scope(scope)
    return str(project_root(cwd)) if scope == "local" else None


def recall_executable() -> str | None:
    """The ``recall`` script beside this interpreter (the venv's), if there is one."""
    candidate = Path(sys.executable).parent / "recall"
    return str(candidate.absolute()) if os.access(candidate, os.X_OK) else None


def plan_for(scope: str) -> install.Plan:
    """``recall hook`` on every event and the ``recall mcp`` server: the bare ``recall`` for a
    scope whose files are shared through git, this venv's ``recall`` by path otherwise."""
    _check_scope(scope)
    executable = None if scope in SHARED_SCOPES else recall_executable()
    return install.Plan(
        command=install.hook_command(executable),
        mcp_servers={install.MCP_SERVER_NAME: install.mcp_server_entry(executable)},
    )


def default_plan() -> install.Plan:
    """The plan of the user scope: this venv's ``recall`` by its path."""
    return plan_for("user")


def read_document(
    path: Path, validate: Callable[[Any], dict[str, Any]] = install.validate
) -> dict[str, Any] | None:
    """The parsed settings file (None when absent); SettingsFormatError when unusable.

    A UTF-8 byte-order mark (some Windows editors write one) is accepted.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise install.SettingsFormatError(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
            "fix it or move it away, nothing was changed"
        ) from exc
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise install.SettingsFormatError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "fix it or move it away, nothing was changed"
        ) from exc
    except RecursionError as exc:
        raise install.SettingsFormatError(
            f"{path} is nested too deeply to read; nothing was changed"
        ) from exc
    try:
        return validate(document)
    except install.SettingsFormatError as exc:
        raise install.SettingsFormatError(f"{path}: {exc}; nothing was changed") from exc


def backups_dir() -> Path:
    """``$RECALL_HOME/backups``: where copies of the files install changes go."""
    from contextrecall.settings import get_settings

    return get_settings().home / BACKUPS


def backup_name(path: Path) -> str:
    """A file name that says which file a backup is of: its absolute path, separators and
    other unusual characters as ``_`` (the end kept when that is too long for a name)."""
    flat = re.sub(r"[^A-Za-z0-9._-]+", "_", str(path.absolute()).lstrip("/\\")).strip("_")
    return flat[-160:].lstrip("_") or "settings"


def _private_dir(directory: Path) -> None:
    if directory.is_dir():
        return
    directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.mkdir(mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)  # whatever the umask took away or added


def backup(path: Path, directory: Path | None = None) -> Path:
    """Copy ``path`` to ``<directory>/<backup_name(path)>.bak-<UTC time>`` (default directory:
    ``backups_dir()``, created private); a fresh name, never overwritten."""
    directory = directory or backups_dir()
    _private_dir(directory)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    base, n = backup_name(path), 1
    target = directory / f"{base}.bak-{stamp}"
    while target.exists():
        n += 1
        target = directory / f"{base}.bak-{stamp}-{n}"
    data = path.read_bytes()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, path.stat().st_mode & 0o777)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return target


def write_atomically(path: Path, document: dict[str, Any], new_mode: int = 0o644) -> None:
    """Replace ``path`` with ``document`` as JSON (UTF-8, no byte-order mark) in one rename,
    keeping its permissions (``new_mode`` for a new file)."""
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


def removable(path: Path) -> bool:
    """Whether an uninstall may delete ``path`` once it holds nothing: any file of ours but
    Claude Code's user config (``.claude.json``), which holds its account state."""
    return path.name != USER_CONFIG_NAME


def _remove_empty_claude_dir(directory: Path) -> list[Path]:
    if directory.name != ".claude":
        return []
    try:
        directory.rmdir()  # only when empty
    except OSError:
        return []
    return [directory]


def _apply(
    path: Path,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    create: bool,
    validate: Callable[[Any], dict[str, Any]] = install.validate,
    listed: Callable[[dict[str, Any]], list[str]] = install.installed_events,
    new_mode: int = 0o644,
    delete_if_empty: bool = False,
    backups: Path | None = None,
) -> Outcome:
    before = read_document(path, validate)
    if before is None and not create:
        return Outcome(path, False, None, [])
    after = change(before or {})
    if before is not None and after == before:
        return Outcome(path, False, None, listed(after))
    saved = backup(path, backups) if before is not None else None
    if delete_if_empty and before is not None and not after and removable(path):
        path.unlink()
        return Outcome(path, True, saved, [], True, _remove_empty_claude_dir(path.parent))
    write_atomically(path, after, new_mode)
    return Outcome(path, True, saved, listed(after))


def install_into(
    path: Path, plan: install.Plan | None = None, *, backups: Path | None = None
) -> Outcome:
    """Merge the plan (default: ``recall hook`` on every event) into the file at ``path``."""
    plan = plan or default_plan()
    return _apply(
        path, lambda document: install.install(document, plan), create=True, backups=backups
    )


def uninstall_from(path: Path, *, backups: Path | None = None) -> Outcome:
    """Remove every ``recall hook`` entry (any path to ``recall``) from ``path``; the file goes
    when nothing else was in it."""
    return _apply(path, install.uninstall, create=False, delete_if_empty=True, backups=backups)


def preflight(settings: Path, mcp_config: Path | None, *, project: str | None = None) -> None:
    """SettingsFormatError before anything is written when either file is unusable."""
    read_document(settings)
    if mcp_config is not None:
        read_document(mcp_config, partial(install.validate_mcp_config, project=project))


def register_mcp_server(
    path: Path,
    plan: install.Plan | None = None,
    *,
    project: str | None = None,
    backups: Path | None = None,
) -> Outcome:
    """Add the plan's MCP servers (default: ``recall mcp``) to the MCP config at ``path``, at
    its top level or, with ``project``, under that project's entry of ``"projects"``;
    ``events`` of the outcome lists the ``recall mcp`` servers registered there."""
    plan = plan or default_plan()
    return _apply(
        path,
        lambda document: install.install_mcp_servers(document, plan, project=project),
        create=True,
        validate=partial(install.validate_mcp_config, project=project),
        listed=partial(install.installed_mcp_servers, project=project),
        new_mode=0o600,  # ~/.claude.json also holds Claude Code's account state
        backups=backups,
    )


def unregister_mcp_server(
    path: Path,
    plan: install.Plan | None = None,
    *,
    project: str | None = None,
    backups: Path | None = None,
) -> Outcome:
    """Remove the plan's ``recall mcp`` servers from the MCP config at ``path`` (see
    ``register_mcp_server``); the file goes when nothing else was in it, unless it is Claude
    Code's ``.claude.json``."""
    plan = plan or default_plan()
    return _apply(
        path,
        lambda document: install.uninstall_mcp_servers(document, plan, project=project),
        create=False,
        validate=partial(install.validate_mcp_config, project=project),
        listed=partial(install.installed_mcp_servers, project=project),
        delete_if_empty=True,
        backups=backups,
    )


def installed_hooks(cwd: Path | None = None) -> list[tuple[str, Path, list[str]]]:
    """``(scope, settings file, events)`` for each scope whose settings file, for ``cwd``
    (default: the working directory), holds ``recall hook`` entries. Unreadable or malformed
    files are skipped, never raised; a file two scopes share (a repository at ``~``) is
    reported once, under the first."""
    found: list[tuple[str, Path, list[str]]] = []
    seen: set[str] = set()
    for scope, path, document in _settings_documents(cwd):
        key = os.path.abspath(path)
        if key in seen:
            continue
        events = install.installed_events(document)
        if events:
            seen.add(key)
            found.append((scope, path, events))
    return found


def enabled_plugin(cwd: Path | None = None) -> list[tuple[str, Path]]:
    """``(scope, settings file)`` for each scope whose settings, for ``cwd``, enable the
    Context Recall plugin (``enabledPlugins``: ``context-recall@<marketplace>``, on or at some
    versions). Unreadable or malformed files are skipped, never raised."""
    found: list[tuple[str, Path]] = []
    for scope, path, document in _settings_documents(cwd):
        enabled = document.get("enabledPlugins")
        if not isinstance(enabled, dict):
            continue
        if any(
            isinstance(key, str) and key.split("@", 1)[0] == PLUGIN_NAME and bool(value)
            for key, value in enabled.items()
        ):
            found.append((scope, path))
    return found


def _settings_documents(cwd: Path | None) -> list[tuple[str, Path, dict[str, Any]]]:
    """``(scope, settings file, its document)`` of each scope whose file, for ``cwd``, exists
    and reads as a settings object; unreadable or malformed files are skipped."""
    documents = []
    for scope in SCOPES:
        try:
            path = settings_path(scope, cwd)
            document = read_document(path)
        except (OSError, ValueError, RecursionError, RuntimeError):  # RuntimeError: no home
            continue
        if isinstance(document, dict):
            documents.append((scope, path, document))
    return documents
