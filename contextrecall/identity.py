"""Who and where: the project of a working directory, and this machine.

Read straight from `.git` files rather than by running git, because the hook calls this on
every event and a subprocess would cost more than the rest of the hook. Standard library only.
"""

from __future__ import annotations

import configparser
import hashlib
import os
import re
from pathlib import Path
from typing import NamedTuple


class ProjectRef(NamedTuple):
    """A project as a client names it; the worker maps it to a row by ``identity``."""

    name: str
    identity: str
    git_remote: str | None = None
    root_path: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return self._asdict()


class MachineRef(NamedTuple):
    hostname: str
    fingerprint: str
    platform: str

    def to_dict(self) -> dict[str, str]:
        return self._asdict()


def named_project(name: str) -> ProjectRef:
    """The project a user names with ``--project``."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("a project name must be 1 to 200 characters")
    return ProjectRef(name=name, identity=f"name:{name}")


def git_toplevel(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding a `.git` entry."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def _git_dir(toplevel: Path) -> Path:
    dot_git = toplevel / ".git"
    if dot_git.is_file():  # worktrees and submodules: "gitdir: <path>"
        text = dot_git.read_text(errors="replace").strip()
        if text.startswith("gitdir:"):
            target = Path(text[7:].strip())
            target = target if target.is_absolute() else (toplevel / target).resolve()
            common = target / "commondir"  # a worktree shares its main repository's config
            if common.is_file():
                return (target / common.read_text().strip()).resolve()
            return target
    return dot_git


def git_remote_url(toplevel: Path) -> str | None:
    """The URL of remote "origin" (or the first remote) from the repository's config."""
    config = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        config.read(_git_dir(toplevel) / "config", encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None
    remotes = [s for s in config.sections() if s.startswith('remote "')]
    remotes.sort(key=lambda s: s != 'remote "origin"')
    for section in remotes:
        url = config.get(section, "url", fallback=None)
        if url:
            return url.strip()
    return None


_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?([^:/]+):(.+)$")


def normalize_remote(url: str) -> str:
    """`git@github.com:Org/Repo.git` and `https://u:p@github.com/org/repo` → `github.com/org/repo`.

    Credentials and the scheme are dropped so every clone of one repository agrees.
    """
    url = url.strip()
    if "://" in url:
        rest = url.split("://", 1)[1]
        rest = rest.rsplit("@", 1)[-1] if "@" in rest.split("/", 1)[0] else rest
        host, _, path = rest.partition("/")
    else:
        match = _SCP_LIKE.match(url)
        if not match:
            return url.rstrip("/").removesuffix(".git").lower()
        host, path = match.groups()
    host = host.split(":", 1)[0].lower()  # drop a port
    path = path.strip("/").removesuffix(".git").lower()
    return f"{host}/{path}"


def project_for_directory(cwd: str | Path) -> ProjectRef:
    """The project of a working directory: its repository's remote, else its top-level path."""
    start = Path(cwd).expanduser().resolve()
    toplevel = git_toplevel(start)
    if toplevel is None:
        return ProjectRef(
            name=start.name or str(start), identity=f"path:{start}", root_path=str(start)
        )
    remote = git_remote_url(toplevel)
    if remote:
        normalized = normalize_remote(remote)
        name = "/".join(normalized.split("/")[-2:]) if "/" in normalized else normalized
        return ProjectRef(
            name=name,
            identity=f"git:{normalized}",
            git_remote=normalized,
            root_path=str(toplevel),
        )
    return ProjectRef(name=toplevel.name, identity=f"path:{toplevel}", root_path=str(toplevel))


def this_machine() -> MachineRef:
    """This computer: hostname, and a fingerprint stable across restarts."""
    uname = os.uname()
    hostname = uname.nodename
    machine_id = ""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            machine_id = Path(path).read_text().strip()
            break
        except OSError:
            continue
    try:
        import pwd

        user = pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        user = str(os.getuid())
    digest = hashlib.sha256(f"{hostname}\0{machine_id}\0{user}".encode()).hexdigest()
    return MachineRef(hostname=hostname, fingerprint=digest[:32], platform=uname.sysname)
