"""``runner report`` and ``apply --report``: the run report, one self-contained HTML page.

Every apply leaves a record of its run under the workspace's ``.runner/`` folder
(``engine/run_record.py``); ``apply --report FILE`` also draws it into FILE as the apply
ends, succeeded, failed or interrupted, and ``runner report SPEC`` draws the latest one
of a spec later, with the tasks of a job the run left in place read again from Batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from runner.cli.options import SpecOptions, spec_options

if TYPE_CHECKING:
    from runner.engine.result import RunResult
    from runner.engine.run_model import RunRecord
    from runner.engine.run_record import RunRecorder
    from runner.render.base import Renderer

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_FILE = "run-report.html"


def report_option(f: F) -> F:
    return click.option(
        "--report",
        "report",
        type=click.Path(dir_okay=False, writable=True),
        default=None,
        metavar="FILE.html",
        help="Write the run report to this file as the apply ends, whatever the outcome: "
        "one self-contained HTML page with the run's timeline (steps, tasks by node, "
        "container groups), states, exit codes, retries and cost.",
    )(f)


def write_page(record: RunRecord, path: str) -> str:
    from runner.render.report_html import render_report

    target = Path(path)
    if target.parent != Path():
        target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(record), encoding="utf-8")
    return str(target)


def leave_record(
    recorder: RunRecorder,
    result: RunResult | None,
    report: str | None,
    out: Renderer,
    *,
    cancelled: bool = False,
) -> None:
    """Keep the run's record; with ``report``, draw it there and say so."""
    from runner.engine.run_record import keep

    record = recorder.finish(result, cancelled=cancelled)
    try:
        keep(record, recorder.root)
    except OSError as exc:
        out.note(f"The run's record could not be kept ({exc}): `runner report` will not see it.")
    if report:
        try:
            where = write_page(record, report)
        except OSError as exc:
            message = f"could not write the run report to {report}: {exc}"
            raise click.ClickException(message) from exc
        out.note(f"Wrote the run report to {where}.", report=where)


@contextmanager
def recording(recorder: RunRecorder, report: str | None, out: Renderer) -> Iterator[None]:
    """Leaves the record of a run an error or a second Ctrl-C ended before it returned."""
    try:
        yield
    except BaseException as exc:
        stopped = isinstance(exc, (KeyboardInterrupt, SystemExit))
        with suppress(Exception):  # the error that ended the run is the one to show
            leave_record(recorder, None, report, out, cancelled=stopped)
        raise


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, writable=True),
    default=DEFAULT_FILE,
    show_default=True,
    help="Where to write the page.",
)
@spec_options
def report(paths: tuple[str, ...], out_file: str, opts: SpecOptions) -> None:
    """Write the run report of the specs' latest apply in this workspace: one
    self-contained HTML page, from the record that apply left. The tasks of a Batch job it
    left in place are read again from Batch. With --output json, the record is printed
    too."""
    import json

    from runner.engine.run_reading import latest_run

    specs = opts.load(paths)
    record = latest_run(specs, opts.workspace_name(), opts.get_target)
    where = write_page(record, out_file)
    if opts.output == "json":
        data = {"type": "report", "file": where, "run": record.model_dump(mode="json")}
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        click.echo(f"Wrote the run report of {', '.join(record.specs)} to {where}.")


__all__ = ["leave_record", "recording", "report", "report_option"]
