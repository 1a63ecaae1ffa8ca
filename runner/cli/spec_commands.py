"""``runner validate`` and ``runner schema``."""

from __future__ import annotations

import click


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Check spec files (or folders of specs) without contacting Azure."""
    raise click.ClickException("validate: not implemented yet")


@click.command()
def schema() -> None:
    """Write the JSON Schemas of the spec language to schemas/."""
    raise click.ClickException("schema: not implemented yet")
