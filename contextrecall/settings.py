"""Configuration in one place: a frozen Settings object built once from the environment.

Nothing else in the package reads ``os.environ``. Each setting is declared once, in ``FIELDS``
(attribute, environment variable, parser, default); ``Settings.__init__``, ``from_env``,
``with_overrides``, equality and ``repr`` are all derived from that table.

The hook loads this module on every agent event, so it avoids ``dataclasses`` (which pulls in
``inspect``), ``typing`` and ``pathlib``: ``home`` and the folders under it are Paths for
everyone else, plain strings (``location``) for the hook.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from functools import lru_cache

TYPE_CHECKING = False  # importing typing costs the hook ~3 ms; annotations are strings
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

DEFAULT_HOME = "~/.local/share/contextrecall"
SPOOL, OFFSETS, WAITING = "spool", "offsets", "waiting"
CONFIG_ENV = "RECALL_CONFIG"  # names the configuration file, overriding where it is looked for
CONFIG_NAME = "config.env"
APP_NAME = "contextrecall"


class Field:
    """One setting: its attribute, its environment variable, its parser and its default.

    ``parse`` turns a non-empty text value (from the environment, or any other source given
    to ``Settings.from_sources``) into the setting; an empty or missing value means the
    ``default``. A callable default is computed when settings are read from their sources,
    from the values of the fields before it in the table. A ``required`` field has no default
    in ``Settings(...)``; a ``secret`` one stays out of ``repr``.
    """

    __slots__ = ("default", "env", "keyword", "name", "parse", "required", "secret")

    def __init__(
        self,
        name: str,
        env: str,
        parse: Callable[[str], object],
        default: object = None,
        *,
        required: bool = False,
        secret: bool = False,
    ) -> None:
        self.name = name  # the attribute (``_home`` is read through the ``home`` property)
        self.keyword = name.lstrip("_")  # the keyword of Settings() and with_overrides()
        self.env = env
        self.parse = parse
        self.default = default
        self.required = required
        self.secret = secret

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.env!r})"


HOOK_BUDGET_SECONDS = 0.9
MIN_HOOK_BUDGET_SECONDS = 0.1
MAX_HOOK_BUDGET_SECONDS = 8.0  # within the 10 s the installed entries let Claude Code wait


def _text(value: str) -> str:
    return value


def _path(value: str) -> str:
    return os.path.abspath(os.path.expanduser(value))


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"expected a whole number, got {value!r}") from None


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"expected a number, got {value!r}") from None


def _hook_budget(value: str) -> float:
    seconds = _float(value)
    low, high = MIN_HOOK_BUDGET_SECONDS, MAX_HOOK_BUDGET_SECONDS
    if not low <= seconds <= high:
        raise ValueError(f"expected seconds from {low:g} to {high:g}, got {value!r}")
    return seconds


def _flag(value: str) -> bool:
    """An on/off value: anything but 0/false/no/off (any case, spaces around) is on."""
    return value.strip().lower() not in {"0", "false", "no", "off"}


def _ci(value: str) -> bool:
    """CI's own convention: only 1/true/yes (any case) mean "running in CI"."""
    return value.lower() in {"1", "true", "yes"}


def _cert_reqs(value: str) -> str | None:
    """``CERT_REQUIRED`` and ``required`` alike become ``required``."""
    return value.lower().removeprefix("cert_") or None


def _default_database_url(values: Mapping[str, object]) -> str:
    return f"sqlite:///{os.path.join(str(values['_home']), 'recall.db')}"


FIELDS = (
    Field("_home", "RECALL_HOME", _path, lambda _: _path(DEFAULT_HOME), required=True),
    Field("database_url", "RECALL_DATABASE_URL", _text, _default_database_url, required=True),
    Field("broker_url", "RECALL_BROKER_URL", _text, "filesystem://", required=True),
    Field("cache_url", "RECALL_CACHE_URL", _text),
    # projects whose sessions are left alone: globs of their folders, comma separated
    Field("exclude_paths", "RECALL_EXCLUDE_PATHS", _text),
    Field("encryption_key", "RECALL_ENCRYPTION_KEY", _text, secret=True),
    Field("flower_basic_auth", "RECALL_FLOWER_BASIC_AUTH", _text, secret=True),  # user:password
    # Celery message signing (see SECURITY.md): PEM private key, its X.509 certificate, and
    # the folder (or glob) of certificates workers trust.
    Field("signing_key", "RECALL_SIGNING_KEY", _text),
    Field("signing_cert", "RECALL_SIGNING_CERT", _text),
    Field("signing_certs", "RECALL_SIGNING_CERTS", _text),
    # TLS options for rediss:// broker and cache URLs (merged into their query by __init__).
    Field("redis_tls_ca_certs", "RECALL_REDIS_TLS_CA_CERTS", _text),
    Field("redis_tls_certfile", "RECALL_REDIS_TLS_CERTFILE", _text),
    Field("redis_tls_keyfile", "RECALL_REDIS_TLS_KEYFILE", _text),
    # "required" (the clients' default when unset), "optional" or "none".
    Field("redis_tls_cert_reqs", "RECALL_REDIS_TLS_CERT_REQS", _cert_reqs),
    # TLS to MariaDB: CA, client certificate and key, and whether to check the server's host
    # name against its certificate.
    Field("database_ssl_ca", "RECALL_DATABASE_SSL_CA", _text),
    Field("database_ssl_cert", "RECALL_DATABASE_SSL_CERT", _text),
    Field("database_ssl_key", "RECALL_DATABASE_SSL_KEY", _text),
    Field("database_ssl_verify_identity", "RECALL_DATABASE_SSL_VERIFY_IDENTITY", _flag, True),
    Field("visibility_timeout", "RECALL_VISIBILITY_TIMEOUT", _int, 300),
    Field("ci", "CI", _ci, False),
    # Maintenance (beat jobs): how often, and what the retention policy removes.
    Field("decay_interval", "RECALL_DECAY_INTERVAL", _float, 3600.0),
    Field("cleanup_interval", "RECALL_CLEANUP_INTERVAL", _float, 86400.0),
    Field("retention_days", "RECALL_RETENTION_DAYS", _float, 90.0),
    Field("retention_min_relevance", "RECALL_RETENTION_MIN_RELEVANCE", _float, 0.1),
    Field("spool_retention_days", "RECALL_SPOOL_RETENTION_DAYS", _float, 30.0),
    # a sent job the store has not confirmed after this long is published again
    Field("spool_resend_seconds", "RECALL_SPOOL_RESEND_SECONDS", _float, 300.0),
    # how often a worker looks for a recall index that is missing or stuck stale, to rebuild it
    Field("index_check_seconds", "RECALL_INDEX_CHECK_SECONDS", _float, 15.0),
    Field("failed_job_retention_days", "RECALL_FAILED_JOB_RETENTION_DAYS", _float, 30.0),
    Field("decay_batch", "RECALL_DECAY_BATCH", _int, 10000),
    Field("cleanup_batch", "RECALL_CLEANUP_BATCH", _int, 5000),
    # How long a hook may take before it gives up (exit 0; its job stays spooled): the agent
    # waits for it at every event.
    Field("hook_budget_seconds", "RECALL_HOOK_BUDGET_SECONDS", _hook_budget, HOOK_BUDGET_SECONDS),
    # The hook starts a worker when none is alive; that worker stops after this long idle.
    Field("worker_autostart", "RECALL_WORKER_AUTOSTART", _flag, True),
    Field("worker_idle_seconds", "RECALL_WORKER_IDLE_SECONDS", _float, 600.0),
)
_NAMES = tuple(f.name for f in FIELDS)
_KEYWORDS = frozenset(f.keyword for f in FIELDS)
_REQUIRED = tuple(f.keyword for f in FIELDS if f.required)


class Settings:
    """Where Context Recall keeps its state and which services it talks to (immutable).

    ``Settings(home=..., database_url=..., broker_url=..., **others)`` takes one keyword per
    field of ``FIELDS``; fields left out get their default.
    """

    __slots__ = _NAMES

    if TYPE_CHECKING:  # the attributes are declared in FIELDS, so type checkers see them as Any

        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, **values: object) -> None:
        unknown = values.keys() - _KEYWORDS
        if unknown:
            raise TypeError(f"Settings() got an unexpected keyword argument {min(unknown)!r}")
        missing = [keyword for keyword in _REQUIRED if keyword not in values]
        if missing:
            raise TypeError(f"Settings() missing required keyword argument(s): {missing}")
        get = values.get
        self._fill({f.name: get(f.keyword, f.default) for f in FIELDS})

    def _fill(self, fields: dict[str, Any]) -> None:
        """Set every attribute from ``fields`` (keyed by attribute name, all present)."""
        fields["_home"] = os.fspath(fields["_home"])
        # Every Redis client (kombu, redis-py, the hook's own publisher and cache reader) reads
        # TLS options from the query of a rediss:// URL, so that is where they go.
        tls = {
            "ssl_ca_certs": fields["redis_tls_ca_certs"],
            "ssl_certfile": fields["redis_tls_certfile"],
            "ssl_keyfile": fields["redis_tls_keyfile"],
            "ssl_cert_reqs": fields["redis_tls_cert_reqs"],
        }
        fields["broker_url"] = _with_tls_query(fields["broker_url"], tls)
        fields["cache_url"] = fields["cache_url"] and _with_tls_query(fields["cache_url"], tls)
        setter = object.__setattr__
        for name, value in fields.items():
            setter(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Settings is immutable; use with_overrides()")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Settings is immutable; use with_overrides()")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and all(
            getattr(self, n) == getattr(other, n) for n in _NAMES
        )

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in _NAMES))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.keyword}={getattr(self, f.name)!r}" for f in FIELDS if not f.secret)
        return f"Settings({shown})"

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
        values = {f.keyword: getattr(self, f.name) for f in FIELDS}
        values.update(changes)
        return Settings(**values)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: the process environment), then the
        configuration file it names or implies (``config_path``), then the defaults."""
        return cls.from_sources(*_sources(os.environ if env is None else env))

    @classmethod
    def from_sources(cls, *sources: Mapping[str, str]) -> Settings:
        """Build settings from text values keyed by environment variable name.

        The first source with a non-empty value for a field wins (so ``from_sources(env,
        file_values)``: the environment overrides the file, which overrides the defaults); an
        empty value counts as unset. A value its parser rejects raises ValueError naming the
        variable.
        """
        values: dict[str, Any] = {}
        for field in FIELDS:
            raw = None
            for source in sources:
                raw = source.get(field.env)
                if raw:
                    break
            if raw:
                try:
                    values[field.name] = field.parse(raw)
                except ValueError as exc:
                    raise ValueError(f"{field.env}: {exc}") from None
            else:
                default = field.default
                values[field.name] = default(values) if callable(default) else default
        settings = cls.__new__(cls)
        settings._fill(values)
        return settings


def _sources(env: Mapping[str, str]) -> tuple[Mapping[str, str], ...]:
    """Where ``env``'s settings come from, first first: ``env``, the configuration file it
    names or implies (``config_path``), the default home under the HOME of ``env`` (which may
    not be this process's)."""
    path = config_path(env)
    home = env.get("HOME")
    fallback = {"RECALL_HOME": DEFAULT_HOME.replace("~", home, 1)} if home else {}
    return env, read_config(path) if path else {}, fallback


def home_from_env(env: Mapping[str, str] | None = None) -> str:
    """``RECALL_HOME`` as ``Settings.from_env`` finds it, without parsing any other setting:
    where the hook logs a setting it cannot parse."""
    sources = _sources(os.environ if env is None else env)
    raw = next((s["RECALL_HOME"] for s in sources if s.get("RECALL_HOME")), DEFAULT_HOME)
    return _path(raw)


def config_path(env: Mapping[str, str]) -> str | None:
    """The configuration file ``env`` reads: ``$RECALL_CONFIG``, else ``config.env`` in the
    platform's user configuration directory; None when ``env`` names no home to find it in.

    The directory is what ``platformdirs.user_config_dir("contextrecall")`` returns (a test
    holds the two equal): worked out here because importing platformdirs would cost the hook
    about 20 ms, most of its whole run.
    """
    explicit = env.get(CONFIG_ENV)
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    home = env.get("HOME")
    if sys.platform == "darwin":
        base = os.path.join(home, "Library", "Application Support") if home else None
    else:
        base = (env.get("XDG_CONFIG_HOME") or "").strip() or (
            os.path.join(home, ".config") if home else None
        )
    return os.path.join(base, APP_NAME, CONFIG_NAME) if base else None


def parse_config(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines (blank lines and ``#`` comments skipped; a value may be quoted)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip().removeprefix("export ").strip()] = value
    return values


def read_config(path: str) -> dict[str, str]:
    """The configuration file's values ({} when it does not exist or cannot be read)."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return parse_config(handle.read())
    except OSError:
        return {}


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
