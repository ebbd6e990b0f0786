"""The one place that builds database engines and sessions."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from contextrecall.settings import Settings, get_settings

_engines: dict[str, Engine] = {}


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:
    # SQLite ignores ON DELETE rules unless this pragma is set on every connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def database_connect_args(settings: Settings) -> dict[str, Any]:
    """PyMySQL's TLS arguments from RECALL_DATABASE_SSL_*: none when no TLS file is set.

    The server's certificate is always verified (against the CA, or the system's CAs when
    only a client certificate is given), and its host name too unless
    RECALL_DATABASE_SSL_VERIFY_IDENTITY=0; a client certificate and key authenticate us.
    """
    paths = {
        "ssl_ca": settings.database_ssl_ca,
        "ssl_cert": settings.database_ssl_cert,
        "ssl_key": settings.database_ssl_key,
    }
    args: dict[str, Any] = {key: value for key, value in paths.items() if value}
    if args:
        args["ssl_verify_cert"] = True
        args["ssl_verify_identity"] = settings.database_ssl_verify_identity
    return args


def build_engine(url: str, connect_args: Mapping[str, Any] | None = None) -> Engine:
    """A new engine for ``url`` with the options each dialect needs; ``connect_args`` (TLS)
    go to the MySQL/MariaDB driver and are ignored for SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    if parsed.get_backend_name() in {"mysql", "mariadb"} and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    # READ COMMITTED: a get-or-create that lost a race must see the winner's committed row,
    # which REPEATABLE READ's snapshot would hide.
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_recycle=3600,
        isolation_level="READ COMMITTED",
        connect_args=dict(connect_args or {}),
    )


def get_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine for the configured database (built on first use)."""
    settings = settings or get_settings()
    url = settings.database_url
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = build_engine(url, database_connect_args(settings))
    return engine


_NO_TABLE = re.compile(r"no such table|Table '[^']+' doesn't exist")


def is_missing_schema(exc: BaseException) -> bool:
    """True when ``exc`` says a table does not exist: the database was never migrated.
    SQLite: "no such table"; MariaDB: error 1146, "Table '…' doesn't exist"."""
    return _NO_TABLE.search(str(exc)) is not None


def dispose_engines() -> None:
    """Drop pooled connections, e.g. after a worker process forks."""
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """A session that commits on success, rolls back on error and always closes."""
    session = Session(bind=get_engine(settings), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
