"""The ``recall`` command line: the root group, which builds the settings once, and one module
per command group. Heavy modules (SQLAlchemy, Alembic, Celery, the MCP SDK) load in commands."""

from __future__ import annotations

import click

from contextrecall.cli import (
    config,
    curation,
    db,
    index,
    install,
    keys,
    maintenance,
    processes,
    recall,
    save,
)
from contextrecall.cli.common import State
from contextrecall.settings import get_settings


@click.group()
@click.version_option(package_name="contextrecall")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Context Recall: persistent, cross-machine memory for AI coding agents."""
    ctx.obj = State(get_settings)


cli.add_command(db.db)
cli.add_command(save.compress)
cli.add_command(save.save)
cli.add_command(save.spool)
cli.add_command(save.hook)
cli.add_command(recall.search)
cli.add_command(recall.inject)
cli.add_command(recall.mcp_command)
cli.add_command(curation.forget)
cli.add_command(curation.pin)
cli.add_command(curation.unpin)
cli.add_command(curation.export)
cli.add_command(curation.import_command)
cli.add_command(curation.ui)
cli.add_command(maintenance.status)
cli.add_command(maintenance.decay_command)
cli.add_command(maintenance.cleanup_command)
cli.add_command(keys.keys)
cli.add_command(index.index)
cli.add_command(processes.worker)
cli.add_command(processes.beat)
cli.add_command(processes.flower)
cli.add_command(processes.demo)
cli.add_command(config.config)
cli.add_command(install.install_command)
cli.add_command(install.uninstall_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="recall")
