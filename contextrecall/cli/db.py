"""Schema migrations: ``recall db`` upgrades, downgrades, reports and checks the schema."""

from __future__ import annotations

import click

from contextrecall.cli.common import RecallError, State, one_line_errors


@click.group()
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@one_line_errors
@click.pass_obj
def db_upgrade(state: State, revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    from contextrecall import migrate
    from contextrecall.client.own_store import learn_store

    migrate.upgrade(state.settings, revision=revision)
    current = migrate.current_revision(state.settings)
    store = f", store {learn_store(state.settings)}" if current == migrate.head_revision() else ""
    click.echo(f"database at {current}{store}")


@db.command("downgrade")
@click.argument("revision")
@one_line_errors
@click.pass_obj
def db_downgrade(state: State, revision: str) -> None:
    """Downgrade the schema to REVISION ('base' removes every table)."""
    from contextrecall import migrate

    migrate.downgrade(state.settings, revision=revision)
    click.echo(f"database at {migrate.current_revision(state.settings) or 'base'}")


@db.command("current")
@one_line_errors
@click.pass_obj
def db_current(state: State) -> None:
    """Print the revision the database is at."""
    from contextrecall import migrate

    current, head = migrate.current_revision(state.settings), migrate.head_revision()
    suffix = " (head)" if current == head else f" (head is {head})"
    click.echo(f"{current or 'base'}{suffix}")


@db.command("check")
@one_line_errors
@click.pass_obj
def db_check(state: State) -> None:
    """Fail if the models and the migrations disagree."""
    from contextrecall import migrate

    drift = migrate.check(state.settings)
    if drift:
        raise RecallError(f"models and migrations differ: {drift}")
    click.echo("models and migrations agree")
