"""Processes: Celery's ``worker``, ``beat`` and ``flower`` commands with the project's app,
and the ``demo``, which runs the whole loop with no server."""

from __future__ import annotations

import click

from contextrecall.cli.common import RecallError, State, one_line_errors

PASSTHROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def _celery(argv: list[str]) -> None:
    from contextrecall.worker.app import app

    app.start(argv=argv)


@click.command(context_settings=PASSTHROUGH)
@click.option(
    "--idle-exit",
    type=float,
    metavar="SECONDS",
    help="Stop after SECONDS without a task (what a worker the hook starts does).",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def worker(state: State, idle_exit: float | None, celery_args: tuple[str, ...]) -> None:
    """Start a Celery worker (arguments go to `celery worker`). It migrates the database to
    the current schema first, and tells hooks it is alive (`recall status` shows it)."""
    import logging

    from contextrecall.migrate import ensure_schema
    from contextrecall.worker import lifetime

    settings = state.settings
    lifetime.hold_home_lock(settings)  # held until the process ends
    try:
        ensure_schema(settings)
    except Exception as exc:  # the database may come up later: tasks retry until it does
        logging.getLogger(__name__).warning("could not migrate the database: %s", exc)
    sweeper = lifetime.SpoolSweeper(settings)
    sweeper.connect()
    lifetime.ConfigurationWatch(settings, follow=bool(idle_exit)).connect()
    if idle_exit:
        lifetime.IdleExit(idle_exit, work_left=sweeper.sweep).connect()
    _celery(["worker", "--loglevel=INFO", *celery_args])


@click.command(context_settings=PASSTHROUGH)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def beat(celery_args: tuple[str, ...]) -> None:
    """Start Celery beat (arguments go to `celery beat`)."""
    _celery(["beat", "--loglevel=INFO", *celery_args])


@click.command(context_settings=PASSTHROUGH)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def flower(state: State, celery_args: tuple[str, ...]) -> None:
    """Start Flower with basic auth from RECALL_FLOWER_BASIC_AUTH (arguments go to Flower)."""
    auth = state.settings.flower_basic_auth
    if not auth or ":" not in auth:
        raise RecallError("set RECALL_FLOWER_BASIC_AUTH to user:password; Flower never runs open")
    from contextrecall.worker.monitoring import protect_metrics

    protect_metrics()
    _celery(["flower", f"--basic-auth={auth}", *celery_args])


@click.command()
@one_line_errors
def demo() -> None:
    """Run the whole loop on the embedded defaults, with no server."""
    from contextrecall import demo as demo_module

    try:
        demo_module.run(echo=click.echo)
    except RuntimeError as exc:
        raise RecallError(str(exc)) from exc
