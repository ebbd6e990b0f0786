"""The encryption key ring: ``keys generate`` a new key, show its ``status``, and ``rotate``
stored deltas onto the newest key."""

from __future__ import annotations

import click

from contextrecall.cli.common import RecallError, State, one_line_errors


@click.group()
def keys() -> None:
    """The encryption key ring (RECALL_ENCRYPTION_KEY or the key file, newest key first)."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new random key (base64 of 32 bytes) to put first in the ring."""
    from contextrecall.crypto import generate_key

    click.echo(generate_key())


@keys.command("status")
@one_line_errors
@click.pass_obj
def keys_status(state: State) -> None:
    """Show the ring's key ids and how many stored deltas each key sealed."""
    from contextrecall.crypto import load_key_ring
    from contextrecall.maintenance.keys import rows_per_key

    settings = state.ready_settings
    ring = load_key_ring(settings)
    counts = rows_per_key(settings)
    for position, key in enumerate(ring.key_ids):
        label = "newest" if position == 0 else "older"
        click.echo(f"{key}  {label:<7}{counts.pop(key, 0):>10} stored deltas")
    for key, count in sorted(counts.items()):
        click.echo(f"{key}  MISSING{count:>10} stored deltas (this key is not in the ring)")


@keys.command("rotate")
@click.option("--batch", type=click.IntRange(min=1), default=200, show_default=True)
@one_line_errors
@click.pass_obj
def keys_rotate(state: State, batch: int) -> None:
    """Re-encrypt stored deltas under the newest key, in batches (safe to re-run)."""
    from contextrecall.crypto import load_key_ring
    from contextrecall.maintenance.keys import rotate

    settings = state.ready_settings
    report = rotate(settings, load_key_ring(settings), batch=batch)
    click.echo(f"re-encrypted {report.rewritten} stored delta(s) under key {report.newest_key}")
    if report.tampered:
        shown = ", ".join(report.tampered[:5])
        raise RecallError(
            f"{len(report.tampered)} stored delta(s) failed authentication and were left as "
            f"they are: {shown}"
        )
