"""TLS and message-signing settings reach the database engine, Celery and the hook's publisher."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from celery import Celery
from sqlalchemy import event

from contextrecall.broker.publish import RedisAddress
from contextrecall.db import build_engine, database_connect_args, get_engine
from contextrecall.settings import Settings
from contextrecall.worker.config import celery_config

CA = "/etc/recall tls/ca.pem"  # a space, to show the value is quoted in URLs
REDIS_TLS = {
    "RECALL_REDIS_TLS_CA_CERTS": CA,
    "RECALL_REDIS_TLS_CERTFILE": "/etc/recall/client.crt",
    "RECALL_REDIS_TLS_KEYFILE": "/etc/recall/client.key",
}
DB_TLS = {
    "RECALL_DATABASE_URL": "mysql+pymysql://recall:pw@db.example.com:3306/recall",
    "RECALL_DATABASE_SSL_CA": "/etc/recall/db-ca.pem",
    "RECALL_DATABASE_SSL_CERT": "/etc/recall/db-client.crt",
    "RECALL_DATABASE_SSL_KEY": "/etc/recall/db-client.key",
}


def settings_from(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"RECALL_HOME": str(tmp_path), **env})


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(url.partition("?")[2]))


def test_redis_tls_options_go_into_rediss_urls_for_every_client(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        RECALL_BROKER_URL="rediss://:pw@redis.example.com:6380/0",
        RECALL_CACHE_URL="rediss://redis.example.com:6380/1?ssl_cert_reqs=optional",
        **REDIS_TLS,
    )
    assert query(settings.broker_url) == {
        "ssl_ca_certs": CA,
        "ssl_certfile": "/etc/recall/client.crt",
        "ssl_keyfile": "/etc/recall/client.key",
    }
    assert query(settings.cache_url or "")["ssl_cert_reqs"] == "optional"  # the URL wins
    # The hook's stdlib publisher and cache reader wrap their socket with these options.
    address = RedisAddress.parse(settings.broker_url)
    assert dict(parse_qsl(address.tls_query or ""))["ssl_ca_certs"] == CA
    assert settings.with_overrides(visibility_timeout=5).broker_url == settings.broker_url


def test_plain_redis_and_other_brokers_keep_their_url(tmp_path: Path) -> None:
    for url in ("redis://127.0.0.1:6379/0", "amqp://guest@rabbit//", "filesystem://"):
        assert settings_from(tmp_path, RECALL_BROKER_URL=url, **REDIS_TLS).broker_url == url
        assert "broker_use_ssl" not in celery_config(settings_from(tmp_path, RECALL_BROKER_URL=url))


def test_rediss_broker_verifies_certificates_by_default(tmp_path: Path) -> None:
    config = celery_config(settings_from(tmp_path, RECALL_BROKER_URL="rediss://r:6380/0"))
    assert config["broker_use_ssl"] == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    assert config["redis_backend_use_ssl"] == config["broker_use_ssl"]


def test_redis_tls_options_reach_the_celery_config_and_connection(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        RECALL_BROKER_URL="rediss://redis.example.com:6380/0",
        RECALL_REDIS_TLS_CERT_REQS="CERT_OPTIONAL",
        **REDIS_TLS,
    )
    config = celery_config(settings)
    assert config["broker_use_ssl"] == {
        "ssl_cert_reqs": ssl.CERT_OPTIONAL,
        "ssl_ca_certs": CA,
        "ssl_certfile": "/etc/recall/client.crt",
        "ssl_keyfile": "/etc/recall/client.key",
    }
    app = Celery("tls-probe", set_as_current=False)
    app.conf.update(config)
    connection = app.connection_for_write()  # no I/O until used
    assert connection.transport_cls == "rediss"
    assert connection.ssl["ssl_ca_certs"] == CA
    assert connection.ssl["ssl_cert_reqs"] == ssl.CERT_OPTIONAL


def capture_connect_params(engine: Any) -> dict[str, Any]:
    """The keyword arguments the engine hands the DB-API driver, without connecting."""
    captured: dict[str, Any] = {}

    class Captured(Exception):
        pass

    @event.listens_for(engine, "do_connect")
    def capture(dialect, record, cargs, cparams):
        captured.update(cparams)
        raise Captured

    with pytest.raises(Exception) as raised:
        engine.connect()
    assert isinstance(raised.value, Captured) or isinstance(
        getattr(raised.value, "orig", None), Captured
    )
    return captured


def test_database_tls_options_reach_the_driver(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, **DB_TLS)
    assert database_connect_args(settings) == {
        "ssl_ca": "/etc/recall/db-ca.pem",
        "ssl_cert": "/etc/recall/db-client.crt",
        "ssl_key": "/etc/recall/db-client.key",
        "ssl_verify_cert": True,
        "ssl_verify_identity": True,
    }
    params = capture_connect_params(get_engine(settings))
    assert params["ssl_ca"] == "/etc/recall/db-ca.pem"
    assert params["ssl_verify_identity"] is True
    assert params["charset"] == "utf8mb4"


def test_database_host_name_check_can_be_turned_off(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, **DB_TLS, RECALL_DATABASE_SSL_VERIFY_IDENTITY="0")
    params = capture_connect_params(
        build_engine(settings.database_url, database_connect_args(settings))
    )
    assert params["ssl_verify_cert"] is True and params["ssl_verify_identity"] is False


def test_no_database_tls_settings_means_no_tls_arguments(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, RECALL_DATABASE_URL=DB_TLS["RECALL_DATABASE_URL"])
    assert database_connect_args(settings) == {}
    params = capture_connect_params(build_engine(settings.database_url))
    assert not any(key.startswith("ssl") for key in params)


def test_signing_switches_celery_to_the_auth_serializer(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        RECALL_SIGNING_KEY="/etc/recall/worker.key",
        RECALL_SIGNING_CERT="/etc/recall/worker.crt",
        RECALL_SIGNING_CERTS="/etc/recall/trusted",
    )
    config = celery_config(settings)
    assert config["task_serializer"] == "auth" and config["accept_content"] == ["auth"]
    assert config["security_key"] == "/etc/recall/worker.key"
    assert config["security_certificate"] == "/etc/recall/worker.crt"
    assert config["security_cert_store"] == "/etc/recall/trusted"
    assert config["security_digest"] == "sha256"


def test_without_signing_workers_accept_json_only(tmp_path: Path) -> None:
    config = celery_config(settings_from(tmp_path))
    assert config["accept_content"] == ["json"] and config["task_serializer"] == "json"
    assert not any(key.startswith("security_") for key in config)


def test_partial_signing_settings_are_refused_with_the_missing_names(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, RECALL_SIGNING_KEY="/etc/recall/worker.key")
    with pytest.raises(ValueError, match="RECALL_SIGNING_CERT, RECALL_SIGNING_CERTS"):
        celery_config(settings)
