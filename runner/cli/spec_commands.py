"""``runner validate`` and ``runner schema``. The spec modules (pydantic, yaml, jinja) are
imported inside the command bodies so ``runner --help`` does not pay for them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runner.cli.options import output_option, parse_var

if TYPE_CHECKING:
    from runner.spec.loader import LoadedSpec, LoadedStep


def _step_kind(step: LoadedStep) -> str:
    from runner.spec.models import ContainerGroup

    kind = "container group" if isinstance(step.spec, ContainerGroup) else "Batch job"
    return f"{kind} from {step.reference}" if step.reference else kind


def _summary(loaded: LoadedSpec) -> str:
    from runner.spec.models import ContainerGroup, Workflow

    spec = loaded.spec
    where = f"{loaded.path}" + (f" (document {loaded.index + 1})" if loaded.index else "")
    if isinstance(spec, Workflow):
        n = len(loaded.steps)
        steps = ", ".join(f"{s.name}: {_step_kind(s)}" for s in loaded.steps)
        return f"ok  {where}: workflow {spec.name}: {n} step{'s' if n != 1 else ''} ({steps})"
    if isinstance(spec, ContainerGroup):
        n = len(spec.containers)
        detail = (
            f"{n} container{'s' if n != 1 else ''}, resource group {spec.resource_group}, "
            f"restart {spec.restart_policy}"
        )
    else:
        detail = f"pool {spec.pool.id}, job {spec.job.id}, {spec.tasks.source_text}"
        if spec.merge is not None:
            detail += f", then merge task {spec.merge.id}"
    return f"ok  {where}: {spec.kind} {spec.name} ({detail})"


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--var",
    multiple=True,
    callback=parse_var,
    metavar="NAME=VALUE",
    help="Set a template variable (overrides --var-file and the spec's vars).",
)
@click.option(
    "--var-file",
    "var_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A YAML file of NAME: value variables; later files win.",
)
@click.option(
    "--check-files/--no-check-files",
    default=True,
    show_default=True,
    help="Check that a Batch job's input glob matches files and its start task files exist.",
)
@output_option
def validate(
    paths: tuple[str, ...],
    var: dict[str, str],
    var_files: tuple[str, ...],
    check_files: bool,
    output: str,
) -> None:
    """Check spec files (or folders of specs) without contacting Azure.

    Exits 0 when every spec is valid, 1 with every error located at file:line:col.
    """
    from runner.errors import SpecError
    from runner.spec.loader import load_specs

    try:
        specs = load_specs(list(paths), variables=var, var_files=var_files)
        if check_files:
            from runner.spec.files import raise_file_problems

            raise_file_problems(specs)
    except SpecError as exc:
        from runner.render.diagnostics import format_spec_error, spec_error_as_json

        if output == "json":
            click.echo(json.dumps(spec_error_as_json(exc), indent=2))
        else:
            files = {d.span.file for d in exc.diagnostics if d.span}
            n = len(exc.diagnostics)
            sys.stderr.write(format_spec_error(exc))
            sys.stderr.write(
                f"\n{n} error{'s' if n != 1 else ''}"
                + (f" in {len(files)} file{'s' if len(files) != 1 else ''}" if files else "")
                + "\n"
            )
        sys.exit(1)
    if output == "json":
        rows = [
            {"file": str(s.path), "index": s.index, "kind": s.spec.kind, "name": s.spec.name}
            for s in specs
        ]
        click.echo(json.dumps({"valid": True, "specs": rows}, indent=2))
        return
    for loaded in specs:
        click.echo(_summary(loaded))
    n_files = len({s.path for s in specs})
    click.echo(
        f"{len(specs)} spec{'s' if len(specs) != 1 else ''} in {n_files} "
        f"file{'s' if n_files != 1 else ''}: valid"
    )


@click.command()
@click.option(
    "--dir",
    "directory",
    default="schemas",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the schema files go.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the files are stale.")
def schema(directory: Path, check: bool) -> None:
    """Write the JSON Schemas of the spec language (runner.schema.json and one per kind)."""
    from runner.spec.schema import stale_files, write_schemas

    if check:
        stale = stale_files(directory)
        if stale:
            click.echo(
                f"stale schemas in {directory}: {', '.join(stale)} (run `runner schema`)",
                err=True,
            )
            sys.exit(1)
        click.echo(f"schemas in {directory} are up to date")
        return
    for path in write_schemas(directory):
        click.echo(f"wrote {path}")
