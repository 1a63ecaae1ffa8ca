"""``runner local up|down|status``: the local target's emulator, through its client
(``runner.backends.local_target``), which starts the server as a process of its own.

The client is imported inside the command bodies so that ``runner --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from runner.cli.options import output_option
from runner.errors import TargetError

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the target keeps its state [default: $RUNNER_LOCAL_DIR or .runner/local].",
)


@click.group()
def local() -> None:
    """Start, stop and inspect the local target (emulator, Azurite)."""


def _fault_rules(faults: tuple[str, ...], faults_file: Path | None) -> dict[str, Any] | None:
    if not (faults or faults_file):
        return None
    from runner.backends import local_target

    try:
        rules = local_target.fault_rules(faults, faults_file)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault/--faults-file") from None
    return {"rules": rules}


def _print_status(status: dict[str, Any], output: str) -> None:
    if output == "json":
        click.echo(json.dumps(status, indent=2))
        return
    click.echo(f"local target running (pid {status['pid']})")
    click.echo(f"  ARM endpoint   {status['arm']['endpoint']}")
    click.echo(f"  subscription   {status['arm']['subscription']}")
    batch = status.get("batch")
    click.echo(f"  Batch URL      {batch['url'] if batch else 'not available'}")
    if batch:
        click.echo(f"  Batch account  {batch['account']}")
    storage = status.get("storage")
    click.echo(f"  Blob endpoint  {storage['blob_endpoint'] if storage else 'not available'}")
    docker = status.get("docker")
    if docker:
        click.echo(f"  Docker engine  {docker['host']}")
    click.echo(f"  CA bundle      {status['ca_bundle']}")
    click.echo(f"  control        {status['control']}")


@local.command()
@state_dir_option
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="RULE",
    help="Inject a fault, as key=value pairs: fault=429|500|drop|latency, api=arm|batch|*, "
    "method, route (substring), rate, count, retry_after, latency, lro_latency. Repeatable.",
)
@click.option(
    "--faults-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help='A JSON file of fault rules: [{"fault": "429", ...}] or {"rules": [...]}.',
)
@output_option
def up(
    state_dir: Path | None, faults: tuple[str, ...], faults_file: Path | None, output: str
) -> None:
    """Start the local target in the background (a running one is reused)."""
    from runner.backends import local_target

    rules = _fault_rules(faults, faults_file)
    status = local_target.up(state_dir, faults=rules)
    _print_status(status, output)


@local.command()
@state_dir_option
@click.option("--purge", is_flag=True, help="Also delete its state: resources, certificate.")
def down(state_dir: Path | None, purge: bool) -> None:
    """Stop the local target and everything it started (containers, Azurite)."""
    from runner.backends import local_target

    folder = state_dir or local_target.default_state_dir()
    running = local_target.status(folder) is not None
    local_target.down(folder, purge=purge)
    what = "stopped" if running else "was not running"
    click.echo(f"local target {what}{'; state deleted' if purge else ''} ({folder})")


@local.command()
@state_dir_option
@output_option
def status(state_dir: Path | None, output: str) -> None:
    """Show the local target's endpoints; exit 1 when it is not running."""
    from runner.backends import local_target

    current = local_target.status(state_dir)
    if current is None:
        if output == "json":
            click.echo("null")
            sys.exit(1)
        folder = state_dir or local_target.default_state_dir()
        raise TargetError(
            f"the local target is not running ({folder}); start it with `runner local up`"
        )
    _print_status(current, output)
