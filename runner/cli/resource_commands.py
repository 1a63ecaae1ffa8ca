"""``plan``, ``apply``, ``destroy``, ``status``, ``logs``."""

from __future__ import annotations

import click


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
def plan(paths: tuple[str, ...]) -> None:
    """Show what apply would change."""
    raise click.ClickException("plan: not implemented yet")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
def apply(paths: tuple[str, ...]) -> None:
    """Make live state match the specs, then run, collect and tear down."""
    raise click.ClickException("apply: not implemented yet")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
def destroy(paths: tuple[str, ...]) -> None:
    """Remove what the runner made."""
    raise click.ClickException("destroy: not implemented yet")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
def status(paths: tuple[str, ...]) -> None:
    """Show live resources the specs (or this workspace) own."""
    raise click.ClickException("status: not implemented yet")


@click.command()
@click.argument("spec", type=click.Path())
def logs(spec: str) -> None:
    """Show a container group's logs."""
    raise click.ClickException("logs: not implemented yet")
