"""``plan``, ``apply``, ``destroy``, ``status``, ``logs``.

Bodies import the engine, SDK-backed modules and renderers lazily, so ``runner --help``
stays fast. Exit codes follow Terraform: 0 done or no changes, 1 error, 2 changes (``plan
--detailed-exitcode``; an error always wins because it raises first), 130 after Ctrl-C
once teardown has run.
"""

from __future__ import annotations

import signal
import sys
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from runner.cli.cost_options import priced, prices_option, refuse_over_cap, spent
from runner.cli.options import (
    SpecOptions,
    UsageError,
    absolute,
    rerun_failed_option,
    rerun_option,
    spec_options,
    ttl_option,
)
from runner.cli.report_commands import leave_record, recording, report_option
from runner.plan.action import Action

if TYPE_CHECKING:
    from runner.render.base import Renderer

EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130


def _interactive() -> bool:
    return sys.stdin.isatty()


def _need_yes_or_terminal(yes: bool, command: str) -> None:
    if not yes and not _interactive():
        raise UsageError(
            f"{command} asks for confirmation; pass --yes when not running in a terminal"
        )


def _confirm(question: str) -> None:
    click.echo(f"\n{question}\n  Only 'yes' will be accepted to approve.\n", err=True)
    answer = click.prompt("  Enter a value", default="", show_default=False, err=True)
    if answer.strip() != "yes":
        raise click.ClickException("cancelled: nothing was changed")


REFRESH_HELP = (
    "Also read the run state of every unchanged always-running group (one request each), "
    "so that one stopped outside runner is started again."
)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to change, 2 when there is, 1 on error. A "
    "conflict (a resource of the specs that this workspace did not make) is an error: "
    "it wins over changes.",
)
@click.option(
    "-out", "--out", "out_file", type=click.Path(dir_okay=False), help="Save the plan to a file."
)
@click.option("--prune", is_flag=True, help="Plan the deletion of this workspace's orphans.")
@click.option("--refresh", is_flag=True, help=REFRESH_HELP)
@rerun_failed_option
@rerun_option
@prices_option
@spec_options
def plan(
    paths: tuple[str, ...],
    detailed_exitcode: bool,
    out_file: str | None,
    prune: bool,
    refresh: bool,
    rerun_failed: bool,
    rerun: tuple[str, ...],
    prices: str | None,
    opts: SpecOptions,
) -> None:
    """Show what apply would change, reading live state (there is no state file).

    Exits 1 when a resource of the specs exists but was not made by this workspace
    (a conflict): apply would leave it untouched and fail."""
    from runner.engine import api
    from runner.render.pick import renderer_for

    specs = opts.load(paths, check_files=True)
    workspace = opts.workspace_name()
    the_plan = api.build_plan(
        specs,
        opts.get_target(),
        workspace,
        prune=prune,
        refresh=refresh,
        rerun_failed=rerun_failed,
        rerun=rerun,
    )
    the_plan = priced(the_plan, specs, opts.target, prices)
    with renderer_for(opts.output, lines=False) as out:
        out.plan(the_plan)
    refuse_over_cap(the_plan, specs)
    if out_file:
        from runner.cli import plan_file

        plan_file.write(
            out_file,
            the_plan,
            paths=absolute(paths),
            var_files=opts.var_files,
            workspace=workspace,
            target=opts.target,
            prune=prune,
            refresh=refresh,
            rerun_failed=rerun_failed,
            rerun=rerun,
        )
        if opts.output == "text":
            click.echo(
                f"\nSaved the plan to {out_file}: apply it with `runner apply --plan {out_file}`."
            )
    conflicts = api.conflicts(the_plan)
    for change in conflicts:
        click.echo(f"Error: {change.address} cannot be applied: {change.reason}", err=True)
    if conflicts:
        sys.exit(1)
    if detailed_exitcode and the_plan.has_changes:
        sys.exit(EXIT_CHANGES)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--prune", is_flag=True, help="Also destroy this workspace's orphans.")
@click.option("--refresh", is_flag=True, help=REFRESH_HELP)
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Apply a plan saved with `runner plan -out`; refused if anything changed since.",
)
@click.option(
    "--ttl",
    callback=lambda _ctx, _param, value: ttl_option(value),
    help="Tag what this apply makes or changes to expire after this long (20m, 8h), over "
    "the specs' own ttl; `runner gc` deletes it once expired.",
)
@rerun_failed_option
@rerun_option
@report_option
@prices_option
@spec_options
def apply(
    paths: tuple[str, ...],
    yes: bool,
    prune: bool,
    refresh: bool,
    plan_path: str | None,
    ttl: timedelta | None,
    rerun_failed: bool,
    rerun: tuple[str, ...],
    report: str | None,
    prices: str | None,
    opts: SpecOptions,
) -> None:
    """Make live state match the specs, then run, collect and tear down."""
    from runner.engine import api
    from runner.engine.lock import WorkspaceLock

    saved = None
    if plan_path:
        from runner.cli import plan_file

        saved = plan_file.read(plan_path)
        paths = paths or saved.paths
        prune = prune or saved.prune
        refresh = refresh or saved.refresh
        rerun_failed = rerun_failed or saved.rerun_failed
        rerun = tuple(dict.fromkeys(rerun + saved.rerun))
        opts = SpecOptions(
            variables=opts.variables,
            var_files=tuple(dict.fromkeys(saved.var_files + opts.var_files)),
            target=opts.target or saved.target,
            output=opts.output,
            workspace=opts.workspace or saved.workspace,
        )
    elif not paths:
        raise UsageError("give spec files or folders to apply, or --plan FILE")
    else:
        _need_yes_or_terminal(yes, "apply")

    specs = opts.load(paths, check_files=True)
    target = opts.get_target()
    workspace = opts.workspace_name()
    # Held from the plan to the end, so no other run acts between them and this one never
    # applies a plan another made stale; the engine's apply joins it.
    with WorkspaceLock(workspace, nestable=True):
        _plan_and_apply(
            api,
            specs,
            target,
            workspace,
            prune,
            refresh,
            saved,
            plan_path,
            yes,
            opts,
            ttl,
            prices=prices,
            rerun_failed=rerun_failed,
            rerun=rerun,
            report=report,
        )


def _plan_and_apply(
    api: Any,
    specs: Any,
    target: Any,
    workspace: str,
    prune: bool,
    refresh: bool,
    saved: Any,
    plan_path: str | None,
    yes: bool,
    opts: SpecOptions,
    ttl: timedelta | None = None,
    prices: str | None = None,
    rerun_failed: bool = False,
    rerun: tuple[str, ...] = (),
    report: str | None = None,
) -> None:
    from runner.render.pick import renderer_for

    the_plan = api.build_plan(
        specs,
        target,
        workspace,
        prune=prune,
        refresh=refresh,
        rerun_failed=rerun_failed,
        rerun=rerun,
    )
    if saved is not None:
        from runner.cli import plan_file

        plan_file.check_still_valid(saved, the_plan, plan_path or "")
    the_plan = priced(the_plan, specs, opts.target, prices)
    out = renderer_for(opts.output)
    out.plan(the_plan)
    refuse_over_cap(the_plan, specs)
    acting = the_plan.has_changes or (prune and bool(the_plan.orphans))
    if acting and saved is None and not yes:
        _confirm("Do you want to perform these actions?")

    from runner.engine.cost_meter import CapGuard, CostMeter
    from runner.engine.run_record import recorder_for

    meter = CostMeter([s.spec for s in specs])
    recorder = recorder_for(specs, target, workspace)
    cancel = threading.Event()
    # A run whose accrued cost passes a spec's cost.cap is stopped as Ctrl-C stops it.
    with CapGuard(meter, the_plan.cost, cancel) as guard, recording(recorder, report, out):
        result = _run_cancellable(
            out,
            cancel,
            lambda: api.apply(
                the_plan,
                specs,
                target,
                meter.watching(recorder.watching(out.emit)),
                workspace=workspace,
                prune=prune,
                cancel=cancel,
                ttl=ttl,
                rerun=rerun,
            ),
        )
    result.cost = spent(the_plan, meter, result.removed)
    if guard.reason is not None:
        result.ok = False
        result.errors.append(guard.reason)
    stopped = cancel.is_set() and guard.reason is None
    leave_record(recorder, result, report, out, cancelled=stopped)
    if stopped:
        out.cancelled(result.removed, result.left)
        sys.exit(EXIT_INTERRUPTED)
    # A resource someone else made is named among the errors by the engine: exit 1.
    out.result(result, command="apply")
    if not result.ok:
        sys.exit(1)


def _run_cancellable(out: Renderer, cancel: threading.Event, run: Any) -> Any:
    """Run with Ctrl-C turned into ``cancel``: the engine stops and tears down; a second
    Ctrl-C gives up at once."""
    from runner.errors import Cancelled

    def on_interrupt(_signum: int, _frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        out.note("Interrupt received: stopping and tearing down (Ctrl-C again to quit now).")

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        with out:
            return run()
    except Cancelled as exc:
        out.cancelled(exc.removed, exc.left)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        signal.signal(signal.SIGINT, previous)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@spec_options
def destroy(paths: tuple[str, ...], yes: bool, opts: SpecOptions) -> None:
    """Remove what the runner made: what the specs own, or with no path, everything
    tagged with this workspace."""
    from runner.cli.destroy_preview import preview
    from runner.engine import api
    from runner.render.pick import renderer_for

    _need_yes_or_terminal(yes, "destroy")
    specs = opts.load(paths) if paths else None
    target = opts.get_target()
    workspace = opts.workspace_name()
    seen = preview(specs, target, workspace)
    out = renderer_for(opts.output)
    if seen.plan.has_changes or any(c.action == Action.CONFLICT for c in seen.plan.changes):
        out.plan(seen.plan)
    if seen.batch_rows:
        out.note("Batch resources of the specs (only what a spec made is destroyed):")
        out.status(seen.batch_rows)
    if seen.empty:
        out.note("Nothing to destroy.", workspace=workspace)
        return
    if not yes:
        _confirm("Do you really want to destroy them? There is no undo.")
    with out:
        result = api.destroy(specs, target, out.emit, workspace=workspace)
    out.result(result, command="destroy")
    if not result.ok:
        sys.exit(1)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@spec_options
def status(paths: tuple[str, ...], opts: SpecOptions) -> None:
    """Show live resources the specs own, or with no path, everything tagged with this
    workspace: states, IP and FQDN, restarts, exit codes."""
    from runner.engine import api
    from runner.render.pick import renderer_for

    specs = opts.load(paths) if paths else None
    target = opts.get_target()
    workspace = opts.workspace_name()
    rows = api.status(specs, target, workspace=workspace)
    from runner.engine.drift import drift, with_drift, workspace_drift

    if specs:
        drifts = drift(specs, rows, target, workspace=workspace)
    else:
        drifts = workspace_drift(rows, target, workspace=workspace)
    rows = with_drift(rows, drifts)
    with renderer_for(opts.output, lines=False) as out:
        out.status(rows)
        if opts.output == "text":
            # JSON carries it in each row's detail: the status document stays one list.
            for d in drifts:
                out.note(d.line)


@click.command()
@click.argument("spec", type=click.Path(exists=True))
@click.option("--container", "-c", default=None, help="Only this container's logs.")
@click.option(
    "--follow", "-f", is_flag=True, help="Print new lines until the group finishes (or Ctrl-C)."
)
@click.option("--name", default=None, help="The group to show when SPEC holds several.")
@spec_options
def logs(
    spec: str, container: str | None, follow: bool, name: str | None, opts: SpecOptions
) -> None:
    """Show a container group's logs."""
    import json

    from runner.engine import api
    from runner.spec.models import ContainerGroup

    groups = [s.spec for s in opts.load([spec]) if isinstance(s.spec, ContainerGroup)]
    if name is not None:
        groups = [g for g in groups if g.name == name]
    if not groups:
        raise UsageError(f"no container group{' named ' + name if name else ''} in {spec}")
    if len(groups) > 1:
        names = ", ".join(g.name for g in groups)
        raise UsageError(f"{spec} holds several container groups ({names}): pick --name")
    for line in api.logs(groups[0], opts.get_target(), container=container, follow=follow):
        text = line.rstrip("\n")
        click.echo(json.dumps({"type": "log", "line": text}) if opts.output == "json" else text)


__all__ = ["apply", "destroy", "logs", "plan", "status"]
