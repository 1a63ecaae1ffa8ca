"""``runner local up|down|status``: the local target's emulator."""

from __future__ import annotations

import click


@click.group()
def local() -> None:
    """Start, stop and inspect the local target (emulator, Azurite)."""
