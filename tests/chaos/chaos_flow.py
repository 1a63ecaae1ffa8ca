"""One kill point, from start to finish, for any spec kind.

A ``World`` knows one kind's specs, how to read back what they made, what an
interrupted run must have said and left, and what the re-apply must not repeat. The
flow is the same for every kind: apply and stop it at the point (with faults for some
points), check what the signal left, apply again, compare with the uninterrupted
reference run, destroy, look for leftovers, scan everything printed and written for
secrets, and count the figures.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from chaos_figures import FIGURES, plan_summary
from chaos_process import Cli, KillPoint, Run

# Random 429 (with Retry-After), 500 and dropped connections on reads and writes of both
# APIs. Deletes are left alone so that "the job's delete was sent" can be read from the
# counters: a DELETE that is counted is also carried out.
STORM = [
    {"api": "*", "method": method, "route": "*", "fault": fault, "rate": 0.04, "retry_after": 1}
    for method in ("GET", "PUT", "POST")
    for fault in ("429", "500", "drop")
]
QUIET_FOR = 0.3  # seconds without a new request before the emulator counts as settled


class World(Protocol):
    kind: str
    cwd: Path

    def apply_args(self) -> list[str]: ...

    def destroy_args(self) -> list[str]: ...

    def snapshot(self) -> dict[str, Any]: ...

    def outputs(self) -> dict[str, bytes]: ...

    def leftovers(self) -> list[str]: ...

    def after_signal(self, run: Run, sig: int | None, counters: dict[str, int]) -> Any:
        """Checks what the stopped run left and said (``sig`` is None when the run ended
        before the signal); returns what ``check_resumed`` needs to know about the state
        the re-apply starts from."""

    def check_resumed(self, again: Run, before: Any) -> None: ...


Prepare = Callable[[Cli], None]


@dataclass(frozen=True)
class Reference:
    totals: dict[str, int]  # requests counted and JSON lines printed by one apply
    snapshot: dict[str, Any]
    outputs: dict[str, bytes]


def settle(status: dict[str, Any], within: float = 10.0) -> dict[str, int]:
    """Waits until the emulator's counters stop moving (requests a killed client had in
    flight are finished) and returns them."""
    from runner.backends import local_target

    last = local_target.counters(status)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        time.sleep(QUIET_FOR)
        now = local_target.counters(status)
        if now == last:
            return now
        last = now
    return last


def reference_run(world: World, cli: Cli, prepare: Prepare | None = None) -> Reference:
    """An uninterrupted apply (after ``prepare``, if given): what every resumed run must
    equal. Destroyed after."""
    from runner.backends import local_target

    if prepare is not None:
        prepare(cli)
    local_target.reset_counters(cli.status)
    run = cli("apply", *world.apply_args()).expect(0)
    requests = sum(local_target.counters(cli.status).values())
    # Lines up to the run's summary: points past it would meet a run whose work is done.
    lines = run.out.splitlines()
    working = next((i for i, line in enumerate(lines) if '"RunSummary"' in line), len(lines))
    reference = Reference(
        totals={"requests": requests, "lines": working},
        snapshot=world.snapshot(),
        outputs=world.outputs(),
    )
    assert reference.outputs, "the uninterrupted run collected nothing: the test proves nothing"
    cli("destroy", *world.destroy_args()).expect(0)
    assert world.leftovers() == []
    return reference


def _with_faults(cli: Cli, point: KillPoint, action: Any) -> Run:
    from runner.backends import local_target

    if point.faults:
        local_target.set_faults(cli.status, STORM)
    try:
        run: Run = action()
    finally:
        if point.faults:
            hits = (r.get("hits", 0) for r in local_target.get_faults(cli.status))
            FIGURES.faults_injected += sum(hits)
            local_target.clear_faults(cli.status)
    return run


def run_point(
    world: World,
    cli: Cli,
    point: KillPoint,
    reference: Reference,
    scan: Any,
    prepare: Prepare | None = None,
) -> None:
    """``prepare(cli)`` runs first (an earlier apply the stopped one changes)."""
    FIGURES.points += 1
    FIGURES.by_kind[world.kind] = FIGURES.by_kind.get(world.kind, 0) + 1
    try:
        if prepare is not None:
            prepare(cli)
        _run_point(world, cli, point, reference, scan)
    except BaseException:
        # Later points reuse the names: what this one left must not become their start.
        from runner.backends import local_target

        local_target.clear_faults(cli.status)
        cli("destroy", *world.destroy_args())
        raise
    finally:
        FIGURES.retries_seen += sum(r.retries() for r in cli.runs)


def _run_point(world: World, cli: Cli, point: KillPoint, reference: Reference, scan: Any) -> None:
    stopped = _with_faults(
        cli, point, lambda: cli.interrupted(["apply", *world.apply_args()], point, reference.totals)
    )
    counters = settle(cli.status)
    if not stopped.signalled or stopped.done_before_signal:
        # Nothing to undo: the run had done its work (a late signal met the exiting
        # process, which a shell reports as 130 either way).
        FIGURES.ended_first += 1
        assert stopped.result()["ok"], stopped.describe()
        assert stopped.code in (0, 130, -signal.SIGINT, -signal.SIGKILL), stopped.describe()
        before = world.after_signal(stopped, None, counters)
    else:
        if point.sig == signal.SIGKILL:
            assert stopped.code == -signal.SIGKILL, stopped.describe()
        else:
            stopped.expect(130)
        before = world.after_signal(stopped, point.sig, counters)

    again = _with_faults(cli, point, lambda: cli("apply", *world.apply_args()))
    again.expect(0)
    world.check_resumed(again, before)
    assert world.snapshot() == reference.snapshot
    assert world.outputs() == reference.outputs

    where = (
        f"stopped after {stopped.requests_at_signal} requests, {stopped.lines_at_signal} lines"
        if stopped.signalled
        else "ended before the signal"
    ) + (" (work done)" if stopped.done_before_signal else "")
    FIGURES.rows.append(
        f"{world.kind:16} {point.id:28} {where:40} exit {stopped.code:4}  "
        f"re-apply: {plan_summary(again.of_type('plan')[0]['plan'])}"
    )

    cli("destroy", *world.destroy_args()).expect(0)
    left = world.leftovers()
    FIGURES.leftovers += len(left)
    assert left == [], f"left after destroy: {left}"

    found: list[str] = []
    for run in cli.runs:
        found += scan.text(run.text, f"runner {' '.join(run.args)}")
    found += scan.folder(world.cwd / "out")
    assert found == [], f"secrets found: {found}"

    if not stopped.signalled or stopped.done_before_signal:
        return
    if point.sig == signal.SIGKILL:
        FIGURES.kills_survived += 1
        FIGURES.kills_by_kind[world.kind] = FIGURES.kills_by_kind.get(world.kind, 0) + 1
    else:
        FIGURES.sigints_handled += 1
