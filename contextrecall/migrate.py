"""Alembic, driven from code: upgrade, downgrade, current revision and model drift check."""

from __future__ import annotations

import fcntl
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from contextrecall.db import get_engine
from contextrecall.settings import Settings, get_settings


def batches(bind, statement, key, size: int = 5000) -> Iterator[list]:
    """The rows of ``statement`` in batches of ``size``, paged by the unique column ``key``
    (for data migrations: each batch is one short indexed read)."""
    last = ""
    while True:
        rows = bind.execute(statement.where(key > last).order_by(key).limit(size)).all()
        if not rows:
            return
        yield rows
        last = getattr(rows[-1], key.name)


def fts5_statements(table: str, index: str, columns: tuple[str, ...]) -> list[str]:
    """SQLite DDL for an FTS5 table ``index`` over ``columns`` of ``table`` (external content:
    the text is not stored twice), the triggers that keep it in step, and its first fill."""
    listed = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = f"INSERT INTO {index}({index}, rowid, {listed}) VALUES ('delete', old.rowid, {old});"
    insert = f"INSERT INTO {index}(rowid, {listed}) VALUES (new.rowid, {new});"
    return [
        f"CREATE VIRTUAL TABLE {index} USING fts5({listed}, content='{table}', "
        "content_rowid='rowid', tokenize='unicode61')",
        f"CREATE TRIGGER {index}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {index}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {index}_au AFTER UPDATE ON {table} BEGIN {delete} {insert} END",
        f"INSERT INTO {index}({index}) VALUES ('rebuild')",
    ]


def fts5_drop_statements(index: str) -> list[str]:
    """SQLite DDL removing what ``fts5_statements`` made."""
    triggers = [f"DROP TRIGGER IF EXISTS {index}{suffix}" for suffix in ("_ai", "_ad", "_au")]
    return [*triggers, f"DROP TABLE IF EXISTS {index}"]


def migrations_dir() -> Path:
    """The Alembic scripts: shipped inside the wheel, or at the root of a source checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_migrations", package.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("Alembic migrations not found next to the contextrecall package")


def alembic_config(settings: Settings | None = None) -> Config:
    """An Alembic config bound to the configured database."""
    settings = settings or get_settings()
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation treats '%' specially (URL-encoded passwords contain it).
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings | None = None, revision: str = "head") -> None:
    """Bring the schema up to ``revision``."""
    config = alembic_config(settings)
    with get_engine(settings).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(settings: Settings | None = None, revision: str = "base") -> None:
    """Take the schema down to ``revision``."""
    config = alembic_config(settings)
    with get_engine(settings).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(settings: Settings | None = None) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with get_engine(settings).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision in the scripts."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


MIGRATION_LOCK = "contextrecall.migrate"
MIGRATION_WAIT = 120  # seconds another process's migration may take before we give up


def ensure_schema(settings: Settings) -> bool:
    """Create and migrate the database to head unless it is there already (True when it
    migrated). Safe from any number of processes at once: they take turns on one lock."""
    head = head_revision()
    if settings.is_embedded_database:
        database = make_url(settings.database_url).database
        if database and database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(database)), mode=0o700, exist_ok=True)
    if current_revision(settings) == head:
        return False
    with _migration_lock(settings):
        if current_revision(settings) == head:  # another process did it meanwhile
            return False
        upgrade(settings)
    return True


@contextmanager
def _migration_lock(settings: Settings) -> Iterator[None]:
    """One migration at a time: GET_LOCK on MariaDB (the server holds it, so processes of
    every machine wait), an ``flock`` under ``RECALL_HOME`` for the embedded database."""
    if settings.is_embedded_database:
        os.makedirs(settings.location(), mode=0o700, exist_ok=True)
        fd = os.open(settings.location("migrate.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
        return
    with get_engine(settings).connect() as connection:
        taken = connection.execute(
            text("SELECT GET_LOCK(:name, :wait)"), {"name": MIGRATION_LOCK, "wait": MIGRATION_WAIT}
        ).scalar()
        if not taken:
            raise TimeoutError(f"another process has been migrating for {MIGRATION_WAIT} s")
        try:
            yield
        finally:
            connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": MIGRATION_LOCK})


def check(settings: Settings | None = None) -> str | None:
    """None when models and migrations agree; otherwise Alembic's description of the drift."""
    from alembic.util import AutogenerateDiffsDetected

    config = alembic_config(settings)
    out = io.StringIO()
    config.stdout = out
    try:
        with get_engine(settings).connect() as connection:
            config.attributes["connection"] = connection
            command.check(config)
    except AutogenerateDiffsDetected as exc:
        return str(exc)
    return None
