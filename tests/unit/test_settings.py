"""Settings: every field read from its variable, its default, and the frozen object's manners."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from contextrecall.settings import FIELDS, Settings, get_settings

# The variables operators set (README, .env.example, compose files), spelled out independently
# of the table so that renaming one there fails here.
VARIABLES = {
    "RECALL_HOME": "home",
    "RECALL_DATABASE_URL": "database_url",
    "RECALL_BROKER_URL": "broker_url",
    "RECALL_CACHE_URL": "cache_url",
    "RECALL_EXCLUDE_PATHS": "exclude_paths",
    "RECALL_ENCRYPTION_KEY": "encryption_key",
    "RECALL_FLOWER_BASIC_AUTH": "flower_basic_auth",
    "RECALL_SIGNING_KEY": "signing_key",
    "RECALL_SIGNING_CERT": "signing_cert",
    "RECALL_SIGNING_CERTS": "signing_certs",
    "RECALL_REDIS_TLS_CA_CERTS": "redis_tls_ca_certs",
    "RECALL_REDIS_TLS_CERTFILE": "redis_tls_certfile",
    "RECALL_REDIS_TLS_KEYFILE": "redis_tls_keyfile",
    "RECALL_REDIS_TLS_CERT_REQS": "redis_tls_cert_reqs",
    "RECALL_DATABASE_SSL_CA": "database_ssl_ca",
    "RECALL_DATABASE_SSL_CERT": "database_ssl_cert",
    "RECALL_DATABASE_SSL_KEY": "database_ssl_key",
    "RECALL_DATABASE_SSL_VERIFY_IDENTITY": "database_ssl_verify_identity",
    "RECALL_VISIBILITY_TIMEOUT": "visibility_timeout",
    "CI": "ci",
    "RECALL_DECAY_INTERVAL": "decay_interval",
    "RECALL_CLEANUP_INTERVAL": "cleanup_interval",
    "RECALL_RETENTION_DAYS": "retention_days",
    "RECALL_RETENTION_MIN_RELEVANCE": "retention_min_relevance",
    "RECALL_SPOOL_RETENTION_DAYS": "spool_retention_days",
    "RECALL_SPOOL_RESEND_SECONDS": "spool_resend_seconds",
    "RECALL_INDEX_CHECK_SECONDS": "index_check_seconds",
    "RECALL_FAILED_JOB_RETENTION_DAYS": "failed_job_retention_days",
    "RECALL_DECAY_BATCH": "decay_batch",
    "RECALL_CLEANUP_BATCH": "cleanup_batch",
    "RECALL_WORKER_AUTOSTART": "worker_autostart",
    "RECALL_WORKER_IDLE_SECONDS": "worker_idle_seconds",
    "RECALL_HOOK_BUDGET_SECONDS": "hook_budget_seconds",
}
INTEGERS = ["RECALL_VISIBILITY_TIMEOUT", "RECALL_DECAY_BATCH", "RECALL_CLEANUP_BATCH"]
NUMBERS = [
    "RECALL_DECAY_INTERVAL",
    "RECALL_CLEANUP_INTERVAL",
    "RECALL_RETENTION_DAYS",
    "RECALL_RETENTION_MIN_RELEVANCE",
    "RECALL_SPOOL_RETENTION_DAYS",
    "RECALL_SPOOL_RESEND_SECONDS",
    "RECALL_FAILED_JOB_RETENTION_DAYS",
    "RECALL_HOOK_BUDGET_SECONDS",
]
KEY = "c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LW11c3Qtbm90LWxlYWs="
PASSWORD = "admin:hunter2"


def every_variable(home: Path) -> tuple[dict[str, str], dict[str, object]]:
    """A value for every variable (none of them a default) and what each field must hold."""
    env = {
        "RECALL_HOME": str(home),
        "RECALL_DATABASE_URL": "mysql+pymysql://recall:pw@db.example.com:3306/recall",
        "RECALL_BROKER_URL": "amqp://guest@rabbit//",
        "RECALL_CACHE_URL": "redis://cache.example.com:6379/1",
        "RECALL_EXCLUDE_PATHS": "~/private/*,/srv/secret",
        "RECALL_ENCRYPTION_KEY": KEY,
        "RECALL_FLOWER_BASIC_AUTH": PASSWORD,
        "RECALL_SIGNING_KEY": "/etc/recall/signing.key",
        "RECALL_SIGNING_CERT": "/etc/recall/signing.crt",
        "RECALL_SIGNING_CERTS": "/etc/recall/trusted",
        "RECALL_REDIS_TLS_CA_CERTS": "/etc/recall/redis-ca.pem",
        "RECALL_REDIS_TLS_CERTFILE": "/etc/recall/redis.crt",
        "RECALL_REDIS_TLS_KEYFILE": "/etc/recall/redis.key",
        "RECALL_REDIS_TLS_CERT_REQS": "CERT_OPTIONAL",
        "RECALL_DATABASE_SSL_CA": "/etc/recall/db-ca.pem",
        "RECALL_DATABASE_SSL_CERT": "/etc/recall/db.crt",
        "RECALL_DATABASE_SSL_KEY": "/etc/recall/db.key",
        "RECALL_DATABASE_SSL_VERIFY_IDENTITY": "off",
        "RECALL_VISIBILITY_TIMEOUT": "45",
        "CI": "true",
        "RECALL_DECAY_INTERVAL": "61.5",
        "RECALL_CLEANUP_INTERVAL": "62",
        "RECALL_RETENTION_DAYS": "63",
        "RECALL_RETENTION_MIN_RELEVANCE": "0.25",
        "RECALL_SPOOL_RETENTION_DAYS": "64",
        "RECALL_SPOOL_RESEND_SECONDS": "64.5",
        "RECALL_FAILED_JOB_RETENTION_DAYS": "65",
        "RECALL_DECAY_BATCH": "66",
        "RECALL_CLEANUP_BATCH": "67",
        "RECALL_WORKER_AUTOSTART": "no",
        "RECALL_WORKER_IDLE_SECONDS": "68",
        "RECALL_HOOK_BUDGET_SECONDS": "2.5",
    }
    expected: dict[str, object] = {
        "home": home,
        "database_url": env["RECALL_DATABASE_URL"],
        "broker_url": "amqp://guest@rabbit//",
        "cache_url": "redis://cache.example.com:6379/1",
        "exclude_paths": "~/private/*,/srv/secret",
        "encryption_key": KEY,
        "flower_basic_auth": PASSWORD,
        "signing_key": "/etc/recall/signing.key",
        "signing_cert": "/etc/recall/signing.crt",
        "signing_certs": "/etc/recall/trusted",
        "redis_tls_ca_certs": "/etc/recall/redis-ca.pem",
        "redis_tls_certfile": "/etc/recall/redis.crt",
        "redis_tls_keyfile": "/etc/recall/redis.key",
        "redis_tls_cert_reqs": "optional",
        "database_ssl_ca": "/etc/recall/db-ca.pem",
        "database_ssl_cert": "/etc/recall/db.crt",
        "database_ssl_key": "/etc/recall/db.key",
        "database_ssl_verify_identity": False,
        "visibility_timeout": 45,
        "ci": True,
        "decay_interval": 61.5,
        "cleanup_interval": 62.0,
        "retention_days": 63.0,
        "retention_min_relevance": 0.25,
        "spool_retention_days": 64.0,
        "spool_resend_seconds": 64.5,
        "failed_job_retention_days": 65.0,
        "decay_batch": 66,
        "cleanup_batch": 67,
        "worker_autostart": False,
        "worker_idle_seconds": 68.0,
        "hook_budget_seconds": 2.5,
    }
    return env, expected


def test_the_table_declares_each_documented_variable_once() -> None:
    assert {field.env: field.keyword for field in FIELDS} == VARIABLES
    assert len(FIELDS) == len(VARIABLES)
    assert Settings.__slots__ == tuple(field.name for field in FIELDS)


def test_every_field_round_trips_through_its_variable(tmp_path: Path) -> None:
    env, expected = every_variable(tmp_path)
    settings = Settings.from_env(env)
    got = {name: getattr(settings, name) for name in expected}
    assert got == expected
    for name, value in expected.items():  # 45, not 45.0; True, not "true"
        assert type(got[name]) is type(value), name
    assert settings.signing_enabled
    assert not settings.is_embedded_database


def test_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path)})
    assert settings.home == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path / 'recall.db'}"
    assert settings.is_embedded_database
    assert settings.broker_url == "filesystem://"
    for name in VARIABLES.values():
        if name.startswith(("cache_", "encryption_", "flower_", "signing_", "redis_tls_")):
            assert getattr(settings, name) is None, name
    assert settings.database_ssl_ca is None and settings.database_ssl_key is None
    assert settings.database_ssl_verify_identity is True
    assert settings.visibility_timeout == 300 and type(settings.visibility_timeout) is int
    assert settings.ci is False
    assert (settings.decay_interval, settings.cleanup_interval) == (3600.0, 86400.0)
    assert (settings.retention_days, settings.retention_min_relevance) == (90.0, 0.1)
    assert (settings.spool_retention_days, settings.failed_job_retention_days) == (30.0, 30.0)
    assert (settings.decay_batch, settings.cleanup_batch) == (10000, 5000)
    assert settings.hook_budget_seconds == 0.9
    assert not settings.signing_enabled


def test_home_defaults_under_the_users_home_and_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    default = Settings.from_env({})
    assert default.home == tmp_path / ".local/share/contextrecall"
    assert default.database_url == f"sqlite:///{default.home / 'recall.db'}"
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({"RECALL_HOME": "state"}).location("spool") == str(
        tmp_path / "state" / "spool"
    )
    assert Settings.from_env({"RECALL_HOME": "~/elsewhere"}).home == tmp_path / "elsewhere"


def test_the_process_environment_is_the_default_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECALL_VISIBILITY_TIMEOUT", "77")
    assert Settings.from_env().visibility_timeout == 77
    get_settings.cache_clear()
    try:
        assert get_settings() is get_settings()
        assert get_settings().visibility_timeout == 77
    finally:
        get_settings.cache_clear()


def test_an_empty_variable_is_unset(tmp_path: Path) -> None:
    empty = {env: "" for env in VARIABLES}
    unset = Settings.from_env({"RECALL_HOME": str(tmp_path)})
    assert Settings.from_env({**empty, "RECALL_HOME": str(tmp_path)}) == unset


@pytest.mark.parametrize("variable", [*INTEGERS, *NUMBERS])
def test_a_bad_number_names_its_variable(variable: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError) as caught:
        Settings.from_env({"RECALL_HOME": str(tmp_path), variable: "abc"})
    assert str(caught.value).startswith(f"{variable}: expected a")
    assert str(caught.value).endswith("number, got 'abc'")


@pytest.mark.parametrize("value", ["0", "0.05", "-1", "9", "inf", "nan"])
def test_a_hook_budget_outside_its_range_is_refused(value: str) -> None:
    refused = r"^RECALL_HOOK_BUDGET_SECONDS: expected seconds from 0\.1 to 8, got "
    with pytest.raises(ValueError, match=refused):
        Settings.from_env({"RECALL_HOOK_BUDGET_SECONDS": value})


@pytest.mark.parametrize("variable", INTEGERS)
def test_a_fraction_is_not_a_count(variable: str) -> None:
    with pytest.raises(ValueError, match=f"^{variable}: expected a whole number, got '1.5'$"):
        Settings.from_env({variable: "1.5"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("1", True), ("yes", True), ("anything", True), (" ", True)],
        *[("0", False), ("false", False), (" No ", False), ("OFF", False)],
    ],
)
def test_on_off_values(value: str, expected: bool) -> None:
    env = {"RECALL_DATABASE_SSL_VERIFY_IDENTITY": value}
    assert Settings.from_env(env).database_ssl_verify_identity is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("1", True), ("true", True), ("TRUE", True), ("yes", True)],
        *[("0", False), ("no", False), ("on", False), (" true", False)],
    ],
)
def test_ci_follows_ci_conventions(value: str, expected: bool) -> None:
    assert Settings.from_env({"CI": value}).ci is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("CERT_REQUIRED", "required"),
        ("optional", "optional"),
        ("Cert_None", "none"),
        ("CERT_", None),
    ],
)
def test_redis_cert_reqs_accepts_the_ssl_module_spelling(value: str, expected: str | None) -> None:
    assert Settings.from_env({"RECALL_REDIS_TLS_CERT_REQS": value}).redis_tls_cert_reqs == expected


def test_redis_tls_options_join_rediss_urls_only(tmp_path: Path) -> None:
    tls = {"RECALL_REDIS_TLS_CA_CERTS": "/ca dir/ca.pem", "RECALL_CACHE_URL": "redis://c/1"}
    settings = Settings.from_env(
        {"RECALL_HOME": str(tmp_path), "RECALL_BROKER_URL": "rediss://r:6380/0", **tls}
    )
    assert settings.broker_url == "rediss://r:6380/0?ssl_ca_certs=/ca%20dir/ca.pem"
    assert settings.cache_url == "redis://c/1"
    assert settings.with_overrides(ci=True).broker_url == settings.broker_url  # not twice


def test_earlier_sources_win_and_empty_values_fall_through(tmp_path: Path) -> None:
    env = {"RECALL_HOME": str(tmp_path), "RECALL_DECAY_BATCH": "1", "RECALL_CLEANUP_BATCH": ""}
    file_values = {"RECALL_DECAY_BATCH": "2", "RECALL_CLEANUP_BATCH": "3", "CI": "yes"}
    settings = Settings.from_sources(env, file_values)
    assert (settings.decay_batch, settings.cleanup_batch, settings.ci) == (1, 3, True)
    assert settings.visibility_timeout == 300
    assert Settings.from_sources(env) == Settings.from_env(env)


def test_with_overrides_replaces_only_what_it_names(tmp_path: Path) -> None:
    env, _ = every_variable(tmp_path)
    settings = Settings.from_env(env)
    changed = settings.with_overrides(home=tmp_path / "other", visibility_timeout=5)
    assert changed.home == tmp_path / "other" and isinstance(changed._home, str)
    assert changed.visibility_timeout == 5
    assert settings.visibility_timeout == 45  # the original is untouched
    for field in FIELDS:
        if field.keyword not in {"home", "visibility_timeout"}:
            assert getattr(changed, field.name) == getattr(settings, field.name), field.name
    assert settings.with_overrides() == settings
    with pytest.raises(TypeError, match="no_such_setting"):
        settings.with_overrides(no_such_setting=1)


def test_construction_needs_home_and_both_urls(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url="sqlite://", broker_url="filesystem://")
    assert settings == Settings.from_env(
        {
            "RECALL_HOME": str(tmp_path),
            "RECALL_DATABASE_URL": "sqlite://",
            "RECALL_BROKER_URL": "filesystem://",
        }
    )
    with pytest.raises(TypeError, match="broker_url"):
        Settings(home=tmp_path, database_url="sqlite://")


def test_settings_are_immutable_and_hashable(tmp_path: Path) -> None:
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path)})
    with pytest.raises(AttributeError, match="immutable"):
        setattr(settings, "ci", True)  # noqa: B010
    with pytest.raises(AttributeError, match="immutable"):
        del settings.encryption_key
    with pytest.raises(AttributeError):
        settings.offsets_dir  # noqa: B018  (removed: the hook uses location(OFFSETS))
    assert settings.ci is False
    same = Settings.from_env({"RECALL_HOME": str(tmp_path)})
    assert settings == same and hash(settings) == hash(same)
    assert settings != settings.with_overrides(decay_batch=1)
    assert len({settings, same, settings.with_overrides(decay_batch=1)}) == 2


def test_repr_hides_secrets(tmp_path: Path) -> None:
    env, _ = every_variable(tmp_path)
    shown = repr(Settings.from_env(env))
    assert KEY not in shown and "encryption_key" not in shown
    assert "hunter2" not in shown and "flower_basic_auth" not in shown
    assert f"home={os.fspath(tmp_path)!r}" in shown
    assert "visibility_timeout=45" in shown and "signing_key='/etc/recall/signing.key'" in shown
