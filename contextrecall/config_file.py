"""The one configuration file every process reads (hook, worker, beat, MCP server, CLI):
``KEY=VALUE`` lines with the environment's own names (``RECALL_DATABASE_URL=...``), in the
platform's user configuration directory (``recall config path``). The environment overrides
it; it overrides the defaults. ``recall install`` and ``recall config set`` write it.

Reading lives in ``contextrecall.settings`` (the hook reads the file on every event, with the
standard library only); this module edits it, keeping comments and the order of lines.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from contextrecall.settings import FIELDS, Field, config_path, parse_config

HEADER = (
    "# Context Recall configuration: one KEY=VALUE a line, the names of the environment\n"
    "# variables (see README, Configuration). A variable set in the environment wins.\n"
)


def field_named(name: str) -> Field:
    """The setting called ``name``: its variable (RECALL_CACHE_URL) or its attribute
    (cache_url); ValueError naming the known ones otherwise."""
    wanted = name.strip()
    for field in FIELDS:
        if wanted in (field.env, field.keyword) or wanted.upper() == field.env:
            return field
    known = ", ".join(f.env for f in FIELDS)
    raise ValueError(f"unknown setting {name!r} (known: {known})")


def current_path(env: Mapping[str, str] | None = None) -> Path:
    """The configuration file this environment reads (it may not exist yet)."""
    path = config_path(os.environ if env is None else env)
    if path is None:
        raise ValueError("cannot tell where the configuration file goes: set RECALL_CONFIG")
    return Path(path)


def read_values(path: Path) -> dict[str, str]:
    """The file's values by variable name ({} when there is no file)."""
    try:
        return parse_config(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return {}


def write_values(path: Path, changes: Mapping[str, str | None]) -> dict[str, str]:
    """Set (or, for None, remove) variables in the file, keeping every other line; returns
    the file's values after. Values are checked by their setting's parser first."""
    for name, value in changes.items():
        field = field_named(name)
        if name != field.env:
            raise ValueError(f"write {field.env}, not {name!r}")
        if value:
            try:
                field.parse(value)
            except ValueError as exc:
                raise ValueError(f"{field.env}: {exc}") from None
            if "\n" in value:
                raise ValueError(f"{field.env}: a value is one line")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        lines = HEADER.splitlines()
    pending = dict(changes)
    kept: list[str] = []
    for line in lines:
        key = line.partition("=")[0].strip()
        if "=" in line and not line.lstrip().startswith("#") and key in pending:
            value = pending.pop(key)
            if value:
                kept.append(f"{key}={value}")
            continue
        kept.append(line)
    kept.extend(f"{key}={value}" for key, value in pending.items() if value)
    _write(path, "\n".join(kept) + "\n")
    return parse_config("\n".join(kept))


def _write(path: Path, text: str) -> None:
    """Atomically, mode 0600: the file may hold passwords in URLs and the encryption key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def environment_values(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings this environment sets (non-empty RECALL_* variables of known fields)."""
    env = os.environ if env is None else env
    return {f.env: env[f.env] for f in FIELDS if f.env.startswith("RECALL_") and env.get(f.env)}
