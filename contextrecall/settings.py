"""Configuration in one place: a frozen Settings object built once from the environment.

Nothing else in the package reads ``os.environ``. This module imports only the standard
library, because the hook fast path loads it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

DEFAULT_HOME = "~/.local/share/contextrecall"


@dataclass(frozen=True)
class Settings:
    """Where Context Recall keeps its state and which services it talks to."""

    home: Path
    database_url: str
    broker_url: str
    cache_url: str | None
    encryption_key: str | None
    flower_basic_auth: str | None = None
    ci: bool = False

    @property
    def spool_dir(self) -> Path:
        return self.home / "spool"

    @property
    def offsets_dir(self) -> Path:
        return self.home / "offsets"

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
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        home = Path(env.get("RECALL_HOME") or DEFAULT_HOME).expanduser()
        database_url = env.get("RECALL_DATABASE_URL") or f"sqlite:///{home / 'recall.db'}"
        broker_url = env.get("RECALL_BROKER_URL") or "filesystem://"
        return cls(
            home=home,
            database_url=database_url,
            broker_url=broker_url,
            cache_url=env.get("RECALL_CACHE_URL") or None,
            encryption_key=env.get("RECALL_ENCRYPTION_KEY") or None,
            flower_basic_auth=env.get("RECALL_FLOWER_BASIC_AUTH") or None,
            ci=(env.get("CI") or "").lower() in {"1", "true", "yes"},
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings.from_env()
