"""Who and where: the project of a working directory, and this machine.

Read straight from `.git` files rather than by running git, because the hook calls this on
every event and a subprocess would cost more than the rest of the hook. Standard library only,
with plain string paths (importing ``pathlib`` alone would cost the hook milliseconds).
"""

from __future__ import annotations

import os
import re

from contextrecall.ids import sha256_hex


class ProjectRef:
    """A project as a client names it; the worker maps it to a row by ``identity``.

    Plain classes here and below: ``typing.NamedTuple`` and ``dataclasses`` each cost the hook
    milliseconds of start-up.
    """

    __slots__ = ("git_remote", "identity", "name", "root_path")

    def __init__(
        self, name: str, identity: str, git_remote: str | None = None, root_path: str | None = None
    ) -> None:
        self.name, self.identity = name, identity
        self.git_remote, self.root_path = git_remote, root_path

    def to_dict(self) -> dict[str, str | None]:
        return {
            name: getattr(self, name) for name in ("name", "identity", "git_remote", "root_path")
        }


class MachineRef:
    """A computer: its hostname, a stable fingerprint and its operating system."""

    __slots__ = ("fingerprint", "hostname", "platform")

    def __init__(self, hostname: str, fingerprint: str, platform: str) -> None:
        self.hostname, self.fingerprint, self.platform = hostname, fingerprint, platform

    def to_dict(self) -> dict[str, str]:
        return {
            "hostname": self.hostname,
            "fingerprint": self.fingerprint,
            "platform": self.platform,
        }


def named_project(name: str) -> ProjectRef:
    """The project a user names with ``--project``."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("a project name must be 1 to 200 characters")
    return ProjectRef(name=name, identity=f"name:{name}")


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def git_toplevel(start: str) -> str | None:
    """The nearest directory at or above ``start`` (absolute) holding a `.git` entry."""
    directory = start
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _git_dir(toplevel: str) -> str:
    dot_git = os.path.join(toplevel, ".git")
    if os.path.isfile(dot_git):  # worktrees and submodules: "gitdir: <path>"
        text = _read(dot_git).strip()
        if text.startswith("gitdir:"):
            target = os.path.realpath(os.path.join(toplevel, text[7:].strip()))
            common = os.path.join(target, "commondir")  # a worktree shares its main config
            if os.path.isfile(common):
                return os.path.realpath(os.path.join(target, _read(common).strip()))
            return target
    return dot_git


def remote_urls(config_text: str) -> dict[str, str]:
    """``{remote name: url}`` from the text of a git config file.

    A few lines instead of ``configparser``, whose import alone costs the hook more than
    reading the file; tested against ``configparser`` on the same files.
    """
    urls: dict[str, str] = {}
    remote = None
    for raw in config_text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            header = line[1 : line.find("]")] if "]" in line else ""
            kind, _, name = header.partition(" ")
            remote = name.strip().strip('"') if kind.lower() == "remote" and name else None
        elif remote is not None and "=" in line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            if key.strip().lower() == "url" and value.strip():
                urls.setdefault(remote, value.strip())
    return urls


def git_remote_url(toplevel: str) -> str | None:
    """The URL of remote "origin" (or the first remote) from the repository's config."""
    try:
        text = _read(os.path.join(_git_dir(toplevel), "config"))
    except OSError:
        return None
    urls = remote_urls(text)
    return urls.get("origin") or next(iter(urls.values()), None)


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


def project_for_directory(cwd: str | os.PathLike[str]) -> ProjectRef:
    """The project of a working directory: its repository's remote, else its top-level path."""
    start = os.path.realpath(os.path.expanduser(os.fspath(cwd)))
    toplevel = git_toplevel(start)
    if toplevel is None:
        name = os.path.basename(start) or start
        return ProjectRef(name=name, identity=f"path:{start}", root_path=start)
    remote = git_remote_url(toplevel)
    if remote:
        normalized = normalize_remote(remote)
        name = "/".join(normalized.split("/")[-2:]) if "/" in normalized else normalized
        return ProjectRef(
            name=name,
            identity=f"git:{normalized}",
            git_remote=normalized,
            root_path=toplevel,
        )
    name = os.path.basename(toplevel) or toplevel
    return ProjectRef(name=name, identity=f"path:{toplevel}", root_path=toplevel)


def this_machine() -> MachineRef:
    """This computer: hostname, and a fingerprint stable across restarts."""
    uname = os.uname()
    hostname = uname.nodename
    machine_id = ""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            machine_id = _read(path).strip()
            break
        except OSError:
            continue
    try:
        import pwd

        user = pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        user = str(os.getuid())
    digest = sha256_hex(f"{hostname}\0{machine_id}\0{user}".encode())
    return MachineRef(hostname=hostname, fingerprint=digest[:32], platform=uname.sysname)
