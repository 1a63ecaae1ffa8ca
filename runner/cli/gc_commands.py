"""``runner gc``: delete what runner made and let expire (``ttl``), in any workspace.

Without ``--yes`` it only shows, as a plan, what it would delete; ``--yes`` is the
confirmation, so it also runs where there is no terminal (cron, CI).
"""

from __future__ import annotations

import sys

import click

from runner.cli.options import output_option


@click.command()
@click.option("--yes", "-y", is_flag=True, help="Delete what has expired (else only list it).")
@click.option(
    "--target",
    envvar="RUNNER_TARGET",
    default=None,
    metavar="local|azure",
    help="Where to look: local (default) or azure. Env: RUNNER_TARGET.",
)
@output_option
def gc(yes: bool, target: str | None, output: str) -> None:
    """Delete runner-made resources whose ttl has passed, made in any workspace: container
    groups and the resource groups runner made for them (once nothing else is in them) in
    the target's subscription, pools, jobs and blob containers in its default Batch and
    storage accounts. Nothing without runner's tags, without an expiry or not yet
    expired is touched."""
    from runner.backends.target import get_target
    from runner.engine import gc as garbage
    from runner.render.pick import renderer_for

    the_target = get_target(target)
    found = garbage.survey(the_target, emit=lambda _event: None)
    plan = found.plan()
    # JSON lines (a plan, then notes or the run's events), as apply writes them.
    out = renderer_for(output)
    out.plan(plan)
    if not plan.has_changes:
        out.note(f"Nothing has expired in {', '.join(found.places)}.", places=found.places)
        return
    if not yes:
        out.note("Run `runner gc --yes` to delete them.")
        return
    with out:
        result = garbage.collect_garbage(plan, the_target, out.emit)
    out.result(result, command="gc")
    if not result.ok:
        sys.exit(1)


__all__ = ["gc"]
