"""Crash and resume of the top-N job: specs/topwords.yaml over small inputs.

The spec is the shipped one with its own names (so no other test shares its pool, job
or containers) and one addition: each task first appends its file's stem to a ledger
file outside the node, which shows how many times every task ran.

After SIGKILL or SIGINT at any point and a second apply: the collected outputs equal an
uninterrupted run's, byte for byte but for the ``Node:`` line (a node id is new with
every pool); the resources are torn down as the policy says; no task id was added twice
and no task ran twice within one job. Only when the stopped run had already deleted the
job (its teardown had begun, or SIGINT) does the re-apply run the job again, exactly
once per task, as any apply after a finished run does. After SIGINT, the job and pool
are gone and the report names what was removed and what was left. After ``runner
destroy`` no pool, job, node folder or blob container of the spec is left.
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
from chaos_process import KillPoint, Run, point_params, spread
from chaos_readback import (
    batch_leftovers,
    batch_snapshot,
    batch_state,
    files_of,
    job_tasks,
)
from waiting import eventually

pytestmark = pytest.mark.integration

SHIPPED = Path(__file__).resolve().parents[2] / "specs" / "topwords.yaml"
NAME = "chaos-topwords"
WORKSPACE = "chaos-topwords"
JOB_DELETE = "DELETE /jobs/{job_id}"  # the emulator's counter key
TEXTS = {
    f"text{i}.txt": " ".join(
        ["the", "cat", "sat", "on", "the", "mat", f"word{i}", f"word{i}", "the", "end."] * i
    )
    + "\n"
    for i in range(1, 7)
}

# Polling the tasks, with faults; as teardown begins (the job's delete may be sent: then
# the re-apply runs the job anew); SIGINT as the tasks are added.
CI_POINTS = [
    KillPoint(signal.SIGKILL, "match", text='"step": "poll"', label="poll", faults=True),
    KillPoint(signal.SIGKILL, "match", text='"step": "teardown"', label="teardown"),
    KillPoint(signal.SIGINT, "match", text='"step": "add tasks"', label="add-tasks"),
]
FULL_POINTS = spread(signal.SIGKILL, 24, faults_every=4) + spread(signal.SIGINT, 6, first=0.2)


def write_spec(folder: Path, shipped: Path = SHIPPED, name: str = NAME) -> Path:
    """A copy of ``shipped`` named ``name``, whose tasks (a merge task too, by its id)
    note each run in the ledger."""
    spec = yaml.safe_load(shipped.read_text())
    spec["name"] = name
    spec["pool"]["id"] = f"{name}-pool"
    spec["job"]["id"] = f"{name}-job"
    spec["vars"]["ledger"] = "ledger.txt"
    spec["tasks"]["command"] = (
        "echo {{ file.stem }} >> {{ vars.ledger }} && " + spec["tasks"]["command"]
    )
    if "merge" in spec:
        merge = spec["merge"]
        merge["command"] = f"echo {merge['id']} >> {{{{ vars.ledger }}}} && " + merge["command"]
    inputs = folder / "topwords"
    inputs.mkdir(parents=True, exist_ok=True)
    for name, text in TEXTS.items():
        (inputs / name).write_text(text)
    path = folder / "topwords.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@dataclass(frozen=True)
class Before:
    rerun: bool  # the stopped run had deleted the job: the re-apply runs it anew
    ledger: int  # ledger lines when the re-apply starts
    present: int  # tasks in the job when the re-apply starts
    # Ledger entries of the tasks whose results the output container's record holds: a
    # re-apply never runs them again, job or no job.
    recorded: frozenset[str] = frozenset()


@dataclass
class TopWords:
    cwd: Path
    spec: Path
    batch: Any
    blobs: Any
    nodes_dir: Path
    kind: str = "top-N job"
    workspace: str = WORKSPACE
    name: str = NAME
    out_dir: str = "out/topwords"
    merged: tuple[str, ...] = ()  # ledger entries of tasks after the mapped ones
    start_files: int = 1  # files the start task copies, uploaded as the inputs are

    @property
    def pool(self) -> str:
        return f"{self.name}-pool"

    @property
    def job(self) -> str:
        return f"{self.name}-job"

    @property
    def containers(self) -> list[str]:
        return [f"{self.name}-{role}" for role in ("application", "input", "output")]

    @property
    def ledger(self) -> Path:
        return self.cwd / "ledger.txt"

    def _spec_args(self) -> list[str]:
        return [
            str(self.spec),
            "--var",
            f"ledger={self.ledger}",
            "--workspace",
            self.workspace,
            "--yes",
            "--output",
            "json",
        ]

    def apply_args(self) -> list[str]:
        return self._spec_args()

    def destroy_args(self) -> list[str]:
        return self._spec_args()

    def snapshot(self) -> dict[str, Any]:
        return batch_snapshot(self.batch, self.blobs, self.pool, self.job, self.containers)

    def outputs(self) -> dict[str, bytes]:
        # The Node line names the node the task ran on: a new pool has new node ids.
        return {
            name: b"".join(
                line for line in data.splitlines(keepends=True) if not line.startswith(b"Node:")
            )
            for name, data in files_of(self.cwd / self.out_dir).items()
        }

    def leftovers(self) -> list[str]:
        return batch_leftovers(
            self.batch,
            self.blobs,
            self.pool,
            self.job,
            self.containers,
            self.workspace,
            self.nodes_dir,
        )

    def ledger_lines(self) -> list[str]:
        return self.ledger.read_text().split() if self.ledger.exists() else []

    def after_signal(self, run: Run, sig: int | None, counters: dict[str, int]) -> Before:
        if sig == signal.SIGINT:
            self._check_interrupt(run)
        rerun = counters.get(JOB_DELETE, 0) > 0
        if rerun:
            # No task of the deleted job may start once it is gone: the ledger is final.
            gone = eventually(lambda: batch_state(self.batch, "job", self.job) == "absent")
            assert gone, "job stays"
        present = job_tasks(self.batch, self.job)
        assert len(present) == len(set(present)), f"a task id twice: {present}"
        return Before(
            rerun=rerun,
            ledger=len(self.ledger_lines()),
            present=len(present),
            recorded=self.recorded(),
        )

    def recorded(self) -> frozenset[str]:
        import json

        from azure.core.exceptions import ResourceNotFoundError

        blob = self.blobs.get_blob_client(self.containers[-1], "runner-results.json")
        try:
            tasks = json.loads(blob.download_blob().readall())["tasks"]
        except ResourceNotFoundError:
            return frozenset()
        return frozenset(t if t in self.merged else t.removeprefix("topwords-") for t in tasks)

    def _check_interrupt(self, run: Run) -> None:
        cancelled = run.of_type("cancelled")
        if not cancelled:
            # Stopped while planning: nothing was started, so there is nothing to undo.
            assert not run.of_type("StepStarted"), run.describe()
            assert self.snapshot() == {"pool": "gone", "job": "gone", "containers": []}
            return
        # Entries may carry the reason after the address: "<address> (teardown...)".
        removed, left = ({e.split(" (")[0] for e in cancelled[-1][k]} for k in ("removed", "left"))
        snap = self.snapshot()
        assert snap["pool"] == "gone" and snap["job"] == "gone", (snap, run.describe())
        for address in removed:
            kind, ident = address.split("/")[-2:]
            if kind == "container":
                assert ident not in snap["containers"], f"{address} is said removed"
        for container in snap["containers"]:
            address = f"BatchJob/{self.name}/container/{container}"
            assert address in left, f"{address} is there and not said left:\n{run.describe()}"

    def check_resumed(self, again: Run, before: Before) -> None:
        counts = again.result()["counts"]
        tasks = len(TEXTS) + len(self.merged)
        assert counts["tasks_added"] + counts["tasks_present"] == tasks, counts
        assert counts["tasks_added"] <= tasks - before.present, (counts, before)
        assert counts["succeeded"] == tasks, counts
        stems = sorted([Path(name).stem for name in TEXTS] + list(self.merged))
        ledger = self.ledger_lines()
        if before.rerun:
            first = Counter(ledger[: before.ledger])
            assert all(n == 1 for n in first.values()), f"a task ran twice in one job: {first}"
            again = sorted(s for s in stems if s not in before.recorded)
            assert sorted(ledger[before.ledger :]) == again, (ledger, before)
        else:
            assert sorted(ledger) == stems, f"each task once: {ledger}"
        # Resumed uploads skip what is there with the same Content-MD5.
        assert counts["uploaded"] + counts["skipped"] == len(TEXTS) + self.start_files, counts


@pytest.fixture(scope="module")
def topwords_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_spec(tmp_path_factory.mktemp("chaos-topwords-spec"))


@pytest.fixture(scope="module")
def topwords_world(emulator: dict[str, Any], topwords_spec: Path) -> Any:
    import os

    from azure.storage.blob import BlobServiceClient
    from fixtures_batch import batch_client_for

    from runner.local.nodes.layout import nodes_root

    batch = batch_client_for(emulator)
    blobs = BlobServiceClient.from_connection_string(
        emulator["storage"]["connection_string"], retry_total=0
    )
    nodes = nodes_root(Path(os.environ["RUNNER_LOCAL_DIR"]))
    return lambda cwd: TopWords(cwd, topwords_spec, batch, blobs, nodes)


@pytest.fixture(scope="module")
def topwords_reference(
    topwords_world: Any, make_cli: Any, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    cwd = tmp_path_factory.mktemp("chaos-topwords-reference")
    reference = reference_run(topwords_world(cwd), make_cli(cwd))
    assert sorted(reference.outputs) == sorted(f"{Path(n).stem}_OUTPUT.txt" for n in TEXTS)
    # The output container stays: it holds the results and their record.
    output = topwords_world(cwd).containers[-1]
    assert reference.snapshot == {"pool": "gone", "job": "gone", "containers": [output]}
    return reference


def _point(
    world_of: Any, make_cli: Any, tmp_path: Path, point: KillPoint, reference: Reference, scan: Any
) -> None:
    world = world_of(tmp_path / "work")
    run_point(world, make_cli(world.cwd), point, reference, scan)


@pytest.mark.parametrize("point", point_params(CI_POINTS, FULL_POINTS))
def test_topwords_resumes_after_a_signal(
    topwords_world: Any,
    topwords_reference: Reference,
    make_cli: Any,
    scan: Any,
    tmp_path: Path,
    point: KillPoint,
) -> None:
    _point(topwords_world, make_cli, tmp_path, point, topwords_reference, scan)
