"""Crash and resume of the top-N job on low-priority nodes, one of them preempted while
it runs a task: ``runner apply`` is stopped around the preemption (as the wait starts,
while the node is away, midway through the run), then applied again.

The tasks note each attempt's start in one ledger and each completed run in another. As
in test_topwords_crash.py, the re-apply's outputs equal an uninterrupted run's (which was
preempted too) and no task completed twice within one job. The preempted attempt is the
only start without its completion: Batch runs a preempted task again from the start, and
that second attempt is its one run.
"""

from __future__ import annotations

import signal
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from chaos_flow import Reference, reference_run, run_point
from chaos_process import KillPoint, Run
from test_topwords_crash import SHIPPED, TEXTS, Before, TopWords, write_spec

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

NAME = "chaos-spot"
# Each task sleeps first, so the attempt the fault hits is still running when its node
# is taken half a second in; the node is back a second later.
PREEMPT = {"fault": "preempt", "route": f"/pools/{NAME}-pool/", "count": 1, "after": 0.5}
POINTS = [
    # As the wait begins: the first attempts run, one node is about to be taken or just
    # was, and no apply watches what follows.
    KillPoint(signal.SIGKILL, "match", text='"step": "poll"', label="poll"),
    # A third of a preempted run's requests: the node is away, its task queued again or
    # running on the other node.
    KillPoint(signal.SIGKILL, "requests", fraction=0.3),
    # Half: the node is back and the preempted task has run again; others still run.
    KillPoint(signal.SIGKILL, "requests", fraction=0.5),
    # Ctrl-C while the tasks run: the job is torn down and the re-apply runs it anew.
    KillPoint(signal.SIGINT, "match", text='"step": "poll"', label="poll"),
]


def spot_spec(folder: Path) -> Path:
    path = write_spec(folder, SHIPPED, NAME)
    spec = yaml.safe_load(path.read_text())
    spec["pool"]["nodes"] = 0
    spec["pool"]["lowPriorityNodes"] = 2
    command = yaml.safe_load(SHIPPED.read_text())["tasks"]["command"]
    spec["tasks"]["command"] = (
        "echo {{ file.stem }} >> {{ vars.ledger }}.starts && sleep 1 && "
        f"{command} && echo {{{{ file.stem }}}} >> {{{{ vars.ledger }}}}"
    )
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@dataclass
class SpotTopWords(TopWords):
    """The top-N world whose ledger holds completed runs; ``starts`` holds attempts."""

    stopped: Before | None = None

    @property
    def starts(self) -> Path:
        return self.cwd / "ledger.txt.starts"

    def start_lines(self) -> list[str]:
        return self.starts.read_text().split() if self.starts.exists() else []

    def after_signal(self, run: Run, sig: int | None, counters: dict[str, int]) -> Before:
        self.stopped = super().after_signal(run, sig, counters)
        return self.stopped


def preempt(cli: Any) -> None:
    from runner.backends import local_target

    local_target.set_faults(cli.status, [PREEMPT])


def preemptions(cli: Any) -> int:
    from runner.backends import local_target

    rules = local_target.get_faults(cli.status)
    return sum(r.get("hits", 0) for r in rules if r["fault"] == "preempt")


@pytest.fixture(scope="module")
def spot_world(emulator: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    import os

    from azure.storage.blob import BlobServiceClient
    from fixtures_batch import batch_client_for

    from runner.local.nodes.layout import nodes_root

    spec = spot_spec(tmp_path_factory.mktemp("chaos-spot-spec"))
    batch = batch_client_for(emulator)
    blobs = BlobServiceClient.from_connection_string(
        emulator["storage"]["connection_string"], retry_total=0
    )
    nodes = nodes_root(Path(os.environ["RUNNER_LOCAL_DIR"]))
    return lambda cwd: SpotTopWords(
        cwd,
        spec,
        batch,
        blobs,
        nodes,
        kind="job on spot nodes",
        workspace=NAME,
        name=NAME,
    )


@pytest.fixture(scope="module")
def spot_reference(
    spot_world: Any, make_cli: Any, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    from runner.backends import local_target

    cwd = tmp_path_factory.mktemp("chaos-spot-reference")
    cli = make_cli(cwd)
    world = spot_world(cwd)
    try:
        reference = reference_run(world, cli, preempt)
        assert preemptions(cli) == 1, "the uninterrupted run was not preempted"
    finally:
        local_target.clear_faults(cli.status)
    assert sorted(reference.outputs) == sorted(f"{Path(n).stem}_OUTPUT.txt" for n in TEXTS)
    extra = Counter(world.start_lines()) - Counter(world.ledger_lines())
    assert sum(extra.values()) == 1, f"one preempted attempt: {extra}"
    return reference


@pytest.mark.parametrize("point", [pytest.param(p, id=p.id) for p in POINTS])
def test_spot_job_resumes_after_a_signal_around_a_preemption(
    spot_world: Any,
    spot_reference: Reference,
    make_cli: Any,
    scan: Any,
    tmp_path: Path,
    point: KillPoint,
) -> None:
    from runner.backends import local_target

    world = spot_world(tmp_path / "work")
    cli = make_cli(world.cwd)
    try:
        run_point(world, cli, point, spot_reference, scan, prepare=preempt)
        hits = preemptions(cli)
    finally:
        local_target.clear_faults(cli.status)

    assert hits == 1, "no node was preempted: the point proves nothing"
    stopped = world.stopped
    assert stopped is not None
    runs, starts = Counter(world.ledger_lines()), Counter(world.start_lines())
    attempts_cut = starts - runs
    if not stopped.rerun:
        # One job from start to end: every task completed once (run_point checked it),
        # and the one attempt without a completion is the preempted one.
        assert sum(attempts_cut.values()) == 1, f"attempts without a run: {attempts_cut}"
    else:
        # The stopped run deleted the job: attempts running then ended with it.
        assert set(attempts_cut) <= {Path(n).stem for n in TEXTS}, attempts_cut
    assert runs.keys() == {Path(n).stem for n in TEXTS}, runs
