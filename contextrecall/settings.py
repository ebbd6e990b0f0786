"""Configuration in one place: a frozen Settings object built once from the environment.

Nothing else in the package reads ``os.environ``. The hook loads this module on every agent
event, so it avoids ``dataclasses`` (which pulls in ``inspect``) and ``pathlib``: ``home`` and
the folders under it are Paths for everyone else, plain strings (``location``) for the hook.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

TYPE_CHECKING = False  # importing typing costs the hook ~3 ms; annotations are strings
if TYPE_CHECKING:
    from os import PathLike
    from pathlib import Path

DEFAULT_HOME = "~/.local/share/contextrecall"
SPOOL, OFFSETS = "spool", "offsets"
_FIELDS = (
    "_home",
    "database_url",
    "broker_url",
    "cache_url",
    "encryption_key",
    "flower_basic_auth",
    "visibility_timeout",
    "ci",
)


class Settings:
    """Where Context Recall keeps its state and which services it talks to (immutable)."""

    __slots__ = _FIELDS
    _home: str
    database_url: str
    broker_url: str
    cache_url: str | None
    encryption_key: str | None
    flower_basic_auth: str | None
    visibility_timeout: int
    ci: bool

    def __init__(
        self,
        home: str | PathLike[str],
        database_url: str,
        broker_url: str,
        cache_url: str | None = None,
        encryption_key: str | None = None,
        flower_basic_auth: str | None = None,
        visibility_timeout: int = 3600,
        ci: bool = False,
    ) -> None:
        values = locals()
        values["_home"] = os.fspath(home)
        for name in _FIELDS:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Settings is immutable; use with_overrides()")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and all(
            getattr(self, n) == getattr(other, n) for n in _FIELDS
        )

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in _FIELDS))

    def __repr__(self) -> str:
        shown = {n.lstrip("_"): getattr(self, n) for n in _FIELDS if n != "encryption_key"}
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    @property
    def home(self) -> Path:
        from pathlib import Path

        return Path(self._home)

    def location(self, *parts: str) -> str:
        """A path under ``home`` as a plain string (what the hook uses)."""
        return os.path.join(self._home, *parts)

    @property
    def spool_dir(self) -> Path:
        return self.home / SPOOL

    @property
    def offsets_dir(self) -> Path:
        return self.home / OFFSETS

    @property
    def broker_dir(self) -> Path:
        return self.home / "broker"

    @property
    def key_file(self) -> Path:
        return self.home / "key"

    @property
    def is_embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced (tests and the demo use this)."""
        values = {n.lstrip("_"): getattr(self, n) for n in _FIELDS}
        values.update(changes)
        return Settings(**values)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        home = os.path.abspath(os.path.expanduser(env.get("RECALL_HOME") or DEFAULT_HOME))
        return cls(
            home=home,
            database_url=env.get("RECALL_DATABASE_URL")
            or f"sqlite:///{os.path.join(home, 'recall.db')}",
            broker_url=env.get("RECALL_BROKER_URL") or "filesystem://",
            cache_url=env.get("RECALL_CACHE_URL") or None,
            encryption_key=env.get("RECALL_ENCRYPTION_KEY") or None,
            flower_basic_auth=env.get("RECALL_FLOWER_BASIC_AUTH") or None,
            visibility_timeout=int(env.get("RECALL_VISIBILITY_TIMEOUT") or 3600),
            ci=(env.get("CI") or "").lower() in {"1", "true", "yes"},
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings.from_env()
