"""Alembic environment: runs migrations against the configured Context Recall database."""

from __future__ import annotations

from alembic import context

from contextrecall.db import build_engine, database_connect_args
from contextrecall.models import Base
from contextrecall.settings import get_settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    # `recall db` passes the URL in; plain `alembic` falls back to RECALL_DATABASE_URL.
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = build_engine(_url(), database_connect_args(get_settings()))
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _same_numeric_default(  # type: ignore[no-untyped-def]
    context, inspected_column, metadata_column, inspected_default, metadata_default, rendered
):
    """Treat '1' and '1.0' (MariaDB reflects FLOAT defaults without the fraction) as equal."""

    def number(text: str | None) -> float | None:
        try:
            return float(str(text).strip("'\" ()"))
        except ValueError:
            return None

    if inspected_default is None or rendered is None:
        return None
    a, b = number(inspected_default), number(rendered)
    if a is not None and b is not None:
        return a != b
    return None  # fall back to Alembic's own comparison


def _include_object(object_, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """FULLTEXT indexes exist on MariaDB only; elsewhere they are not part of the schema. On
    SQLite their place is taken by FTS5 tables (``ft_*``) the models do not describe."""
    if type_ == "index" and object_.dialect_options["mysql"].get("prefix") == "FULLTEXT":
        return context.get_context().dialect.name in {"mysql", "mariadb"}
    return not (type_ == "table" and reflected and name.startswith("ft_"))


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most constraints; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=_same_numeric_default,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
