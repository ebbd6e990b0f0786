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
    "signing_key",
    "signing_cert",
    "signing_certs",
    "redis_tls_ca_certs",
    "redis_tls_certfile",
    "redis_tls_keyfile",
    "redis_tls_cert_reqs",
    "database_ssl_ca",
    "database_ssl_cert",
    "database_ssl_key",
    "database_ssl_verify_identity",
    "visibility_timeout",
    "ci",
    "decay_interval",
    "cleanup_interval",
    "retention_days",
    "retention_min_relevance",
    "spool_retention_days",
    "failed_job_retention_days",
    "decay_batch",
    "cleanup_batch",
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
    signing_key: str | None  # Celery message signing (see SECURITY.md): PEM private key,
    signing_cert: str | None  # its X.509 certificate,
    signing_certs: str | None  # and the folder (or glob) of certificates workers trust
    redis_tls_ca_certs: str | None  # TLS options for rediss:// broker and cache URLs
    redis_tls_certfile: str | None
    redis_tls_keyfile: str | None
    redis_tls_cert_reqs: str | None  # "required" (default), "optional" or "none"
    database_ssl_ca: str | None  # TLS to MariaDB: CA, client certificate and key
    database_ssl_cert: str | None
    database_ssl_key: str | None
    database_ssl_verify_identity: bool  # check the server's host name against its certificate
    visibility_timeout: int
    ci: bool
    decay_interval: float
    cleanup_interval: float
    retention_days: float
    retention_min_relevance: float
    spool_retention_days: float
    failed_job_retention_days: float
    decay_batch: int
    cleanup_batch: int

    def __init__(
        self,
        home: str | PathLike[str],
        database_url: str,
        broker_url: str,
        cache_url: str | None = None,
        encryption_key: str | None = None,
        flower_basic_auth: str | None = None,
        signing_key: str | None = None,
        signing_cert: str | None = None,
        signing_certs: str | None = None,
        redis_tls_ca_certs: str | None = None,
        redis_tls_certfile: str | None = None,
        redis_tls_keyfile: str | None = None,
        redis_tls_cert_reqs: str | None = None,
        database_ssl_ca: str | None = None,
        database_ssl_cert: str | None = None,
        database_ssl_key: str | None = None,
        database_ssl_verify_identity: bool = True,
        visibility_timeout: int = 3600,
        ci: bool = False,
        decay_interval: float = 3600.0,
        cleanup_interval: float = 86400.0,
        retention_days: float = 90.0,
        retention_min_relevance: float = 0.1,
        spool_retention_days: float = 30.0,
        failed_job_retention_days: float = 30.0,
        decay_batch: int = 10000,
        cleanup_batch: int = 5000,
    ) -> None:
        values = locals()
        values["_home"] = os.fspath(home)
        # Every Redis client (kombu, redis-py, the hook's own publisher and cache reader) reads
        # TLS options from the query of a rediss:// URL, so that is where they go.
        tls = {
            "ssl_ca_certs": redis_tls_ca_certs,
            "ssl_certfile": redis_tls_certfile,
            "ssl_keyfile": redis_tls_keyfile,
            "ssl_cert_reqs": redis_tls_cert_reqs,
        }
        values["broker_url"] = _with_tls_query(broker_url, tls)
        values["cache_url"] = cache_url and _with_tls_query(cache_url, tls)
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

    @property
    def signing_enabled(self) -> bool:
        """True when any message-signing path is set (workers then insist on all three)."""
        return bool(self.signing_key or self.signing_cert or self.signing_certs)

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
            signing_key=env.get("RECALL_SIGNING_KEY") or None,
            signing_cert=env.get("RECALL_SIGNING_CERT") or None,
            signing_certs=env.get("RECALL_SIGNING_CERTS") or None,
            redis_tls_ca_certs=env.get("RECALL_REDIS_TLS_CA_CERTS") or None,
            redis_tls_certfile=env.get("RECALL_REDIS_TLS_CERTFILE") or None,
            redis_tls_keyfile=env.get("RECALL_REDIS_TLS_KEYFILE") or None,
            redis_tls_cert_reqs=(env.get("RECALL_REDIS_TLS_CERT_REQS") or "")
            .lower()
            .removeprefix("cert_")
            or None,
            database_ssl_ca=env.get("RECALL_DATABASE_SSL_CA") or None,
            database_ssl_cert=env.get("RECALL_DATABASE_SSL_CERT") or None,
            database_ssl_key=env.get("RECALL_DATABASE_SSL_KEY") or None,
            database_ssl_verify_identity=_flag(
                env.get("RECALL_DATABASE_SSL_VERIFY_IDENTITY"), True
            ),
            visibility_timeout=int(env.get("RECALL_VISIBILITY_TIMEOUT") or 3600),
            ci=(env.get("CI") or "").lower() in {"1", "true", "yes"},
            # Maintenance (beat jobs): how often, and what the retention policy removes.
            decay_interval=float(env.get("RECALL_DECAY_INTERVAL") or 3600),
            cleanup_interval=float(env.get("RECALL_CLEANUP_INTERVAL") or 86400),
            retention_days=float(env.get("RECALL_RETENTION_DAYS") or 90),
            retention_min_relevance=float(env.get("RECALL_RETENTION_MIN_RELEVANCE") or 0.1),
            spool_retention_days=float(env.get("RECALL_SPOOL_RETENTION_DAYS") or 30),
            failed_job_retention_days=float(env.get("RECALL_FAILED_JOB_RETENTION_DAYS") or 30),
            decay_batch=int(env.get("RECALL_DECAY_BATCH") or 10000),
            cleanup_batch=int(env.get("RECALL_CLEANUP_BATCH") or 5000),
        )


def _flag(value: str | None, default: bool) -> bool:
    """An on/off environment value: 1/true/yes or 0/false/no, ``default`` when unset."""
    if not value:
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


def _with_tls_query(url: str, options: Mapping[str, str | None]) -> str:
    """A ``rediss://`` URL with the TLS ``options`` it does not name yet added to its query.

    Other URLs come back unchanged, and so does one that already names an option: what the
    operator wrote in the URL wins.
    """
    if not url.startswith("rediss://") or not any(options.values()):
        return url
    from urllib.parse import parse_qsl, quote  # only here: the hook pays for it only with TLS

    present = {key for key, _ in parse_qsl(url.partition("?")[2])}
    extra = "&".join(
        f"{key}={quote(value, safe='/')}"
        for key, value in options.items()
        if value and key not in present
    )
    if not extra:
        return url
    return f"{url}{'&' if '?' in url else '?'}{extra}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings.from_env()
