"""The ``runner`` command line. Command bodies import SDK-backed modules lazily so that
``runner --help`` stays fast and free of Azure imports."""

from __future__ import annotations

import click

from runner import __version__
from runner.cli.errors import handle_errors
from runner.cli.gc_commands import gc
from runner.cli.local_commands import local
from runner.cli.report_commands import report
from runner.cli.resource_commands import apply, destroy, logs, plan, status
from runner.cli.spec_commands import schema, validate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runner")
def cli() -> None:
    """Declarative workflows for Azure Container Instances and Azure Batch.

    Write specs in YAML, keep them in git, then `runner apply spec.yaml`.
    """


for command in (validate, schema, plan, apply, destroy, status, logs, report, gc, local):
    cli.add_command(command)


def main() -> None:
    handle_errors(cli)
