"""Crash and resume of a container-group set: a web app, an app with a sidecar and a
run-to-completion task (tests/chaos/specs/groups.yaml).

After SIGKILL or SIGINT at any point and a second apply, the resource group holds the
same groups, in the same states, with the same containers on the Docker engine, as
after an uninterrupted apply; groups already running as desired are left alone (same
Docker containers); a task run the stopped apply left going is waited for, not left
behind; the task's collected logs are byte-equal. After SIGINT, apply has torn down what
the teardown policy removes, named it, and named what it left. After ``runner destroy``
nothing of it is left in the emulator or on the Docker engine. The full run also stops a
second apply that replaces a group.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chaos_flow import Reference, reference_run, run_point
from chaos_process import KillPoint, Run, point_params, spread
from chaos_readback import (
    docker_containers,
    docker_ids,
    files_of,
    group_leftovers,
    group_names,
    group_snapshot,
)
from waiting import eventually

pytestmark = pytest.mark.integration

SPEC = Path(__file__).parent / "specs" / "groups.yaml"
WORKSPACE = "chaos-groups"
# One resource group for every point, as a user re-running the same specs has: the
# ownership tags (a secure value's fingerprint among them) then compare as they are.
RESOURCE_GROUP = "chaos-groups"
TASK = "chaos-task"  # runs to completion; teardown always
RUNNING = "running until every container finishes"  # apply's line as a group's run begins

# SIGINT as the task starts, with faults (the join of a killed run has its own test).
CI_POINTS = [KillPoint(signal.SIGINT, "match", text=RUNNING, label="task-run", faults=True)]
FULL_POINTS = spread(signal.SIGKILL, 24, faults_every=4) + spread(signal.SIGINT, 5, first=0.3)
# A second apply that replaces the web app (its CPU changes): stopped between the delete
# and the create, or while the delete runs, it must still end as an uninterrupted one.
REPLACED_CPU = "1"
REPLACE_POINTS = spread(signal.SIGKILL, 6, faults_every=3) + spread(signal.SIGINT, 2, first=0.3)


@dataclass
class Groups:
    cwd: Path
    rg: str
    image: str
    token: str
    aci: Any
    resources: Any
    docker: Any
    instance: str
    sleep: str = "1"  # seconds the task runs
    web_cpu: str = "0.5"
    kind: str = "container groups"
    workspace: str = WORKSPACE
    notes: list[str] = field(default_factory=list)

    def _spec_args(self) -> list[str]:
        variables = {
            "rg": self.rg,
            "image": self.image,
            "token": self.token,
            "sleep": self.sleep,
            "webCpu": self.web_cpu,
        }
        args = [str(SPEC), "--workspace", self.workspace, "--yes", "--output", "json"]
        for name, value in variables.items():
            args += ["--var", f"{name}={value}"]
        return args

    def apply_args(self) -> list[str]:
        return self._spec_args()

    def destroy_args(self) -> list[str]:
        return self._spec_args()

    def address(self, name: str) -> str:
        return f"ContainerGroup/{self.rg}/{name}"

    def snapshot(self) -> dict[str, Any]:
        return group_snapshot(self.aci, self.docker, self.instance, self.rg)

    def outputs(self) -> dict[str, bytes]:
        return files_of(self.cwd / "out" / TASK)

    def leftovers(self) -> list[str]:
        return group_leftovers(
            self.aci, self.resources, self.docker, self.instance, self.rg, self.workspace
        )

    def after_signal(self, run: Run, sig: int | None, counters: dict[str, int]) -> Any:
        if sig == signal.SIGINT:
            self._check_interrupt(run)
        # Groups already running when the re-apply starts: their ids, and the hash of the
        # definition they run (an earlier version's, before a replace).
        snap = self.snapshot()
        running = {
            name
            for name in snap["names"]
            if snap[name]["state"] == "Running"
            and snap[name]["docker"]
            and all(status == "running" for *_, status in snap[name]["docker"])
        }
        ids = docker_ids(self.docker, self.instance, self.rg)
        return {
            name: (ids.get(name, set()), snap[name]["runner_tags"].get("runner-hash"))
            for name in running
        }

    def _check_interrupt(self, run: Run) -> None:
        cancelled = run.of_type("cancelled")
        if not cancelled:
            # Stopped while planning: nothing was started, so there is nothing to undo.
            assert not run.of_type("StepStarted"), run.describe()
            assert group_names(self.aci, self.rg) == []
            return
        removed, left = set(cancelled[-1]["removed"]), set(cancelled[-1]["left"])
        present = set(group_names(self.aci, self.rg))
        for address in removed:
            name = address.rsplit("/", 1)[-1]
            assert name not in present, f"{address} is said removed but is there"
            assert eventually(
                lambda n=name: not docker_containers(self.docker, self.instance, self.rg, n)
            ), f"{address} is said removed but its containers run"
        assert TASK not in present, "the run-to-completion task outlived SIGINT"
        # Fine to find: what the apply was not to touch, and what it finished before.
        untouched = {
            c["address"]
            for c in run.of_type("plan")[0]["plan"]["changes"]
            if c["action"] == "no-op"
        }
        done = {e["address"] for e in run.of_type("StepFinished") if e["outcome"] == "ok"}
        for name in present:
            address = self.address(name)
            assert address in left | done | untouched, (
                f"{address} is there after SIGINT, unfinished, and not said left:\n"
                + run.describe()
            )

    def check_resumed(self, again: Run, before: Any) -> None:
        plan = again.of_type("plan")[0]["plan"]
        actions = {c["address"]: c["action"] for c in plan["changes"]}
        ids = docker_ids(self.docker, self.instance, self.rg)
        now = self.snapshot()
        for name, (kept, hash_then) in before.items():
            if name == TASK or name not in now:
                continue  # a finished task is started again: that is a new run
            if hash_then != now[name]["runner_tags"].get("runner-hash"):
                continue  # it ran an earlier version: the re-apply had to change it
            # Running as desired already: left alone (a PUT would restart its containers).
            assert actions[self.address(name)] == "no-op", plan
            assert ids.get(name) == kept, f"{name} was restarted by the re-apply"


@pytest.fixture(scope="module")
def groups_world(
    emulator: dict[str, Any],
    make_arm_client: Any,
    docker_client: Any,
    test_image: str,
    secure_token: str,
    instance: str,
) -> Any:
    aci = make_arm_client(emulator, "aci")
    resources = make_arm_client(emulator, "resource")

    def make(cwd: Path, sleep: str = "1", web_cpu: str = "0.5") -> Groups:
        return Groups(
            cwd,
            RESOURCE_GROUP,
            test_image,
            secure_token,
            aci,
            resources,
            docker_client,
            instance,
            sleep,
            web_cpu,
        )

    return make


@pytest.fixture(scope="module")
def groups_reference(
    groups_world: Any, make_cli: Any, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    cwd = tmp_path_factory.mktemp("chaos-groups-reference")
    world = groups_world(cwd)
    reference = reference_run(world, make_cli(cwd))
    assert reference.snapshot["names"] == ["chaos-pair", "chaos-web"], reference.snapshot
    return reference


def apply_first_version(world_of: Any) -> Any:
    """Applies the set with the web app's first CPU: the state a replace starts from."""

    def prepare(cli: Any) -> None:
        cli("apply", *world_of(cli.cwd).apply_args()).expect(0)

    return prepare


@pytest.fixture(scope="module")
def replace_reference(
    groups_world: Any, make_cli: Any, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    cwd = tmp_path_factory.mktemp("chaos-groups-replace-reference")
    world = groups_world(cwd, web_cpu=REPLACED_CPU)
    return reference_run(world, make_cli(cwd), prepare=apply_first_version(groups_world))


def _point(
    groups_world: Any,
    make_cli: Any,
    tmp_path: Path,
    point: KillPoint,
    reference: Reference,
    scan: Any,
) -> None:
    world = groups_world(tmp_path / "work")
    run_point(world, make_cli(world.cwd), point, reference, scan)


@pytest.mark.parametrize("point", point_params(CI_POINTS, FULL_POINTS))
def test_group_set_resumes_after_a_signal(
    groups_world: Any,
    groups_reference: Reference,
    make_cli: Any,
    scan: Any,
    tmp_path: Path,
    point: KillPoint,
) -> None:
    _point(groups_world, make_cli, tmp_path, point, groups_reference, scan)


@pytest.mark.parametrize("run", ["ci", pytest.param("full", marks=pytest.mark.chaos)])
def test_a_run_a_killed_apply_left_going_is_waited_for_collected_and_torn_down(
    groups_world: Any,
    groups_reference: Reference,
    make_cli: Any,
    scan: Any,
    tmp_path: Path,
    run: str,
) -> None:
    """SIGKILL as the task starts: its group stays, running. The re-apply finds it
    unchanged (a no-op) and, rather than leave it, waits for its run, collects its logs
    and tears it down, as the killed apply would have."""
    # Long enough that the run is still going when the re-apply reads it.
    world = groups_world(tmp_path / "work", sleep="6")
    cli = make_cli(world.cwd)
    point = KillPoint(signal.SIGKILL, "match", text=RUNNING, label="task-run")
    run_point(world, cli, point, groups_reference, scan)

    stopped, again = cli.runs[0], cli.runs[1]
    assert stopped.signalled and not stopped.done_before_signal
    plan = {c["address"]: c for c in again.of_type("plan")[0]["plan"]["changes"]}
    task = world.address(TASK)
    assert plan[task]["action"] == "no-op", plan[task]
    assert "running" in plan[task]["reason"], plan[task]
    finished = [e for e in again.of_type("StepFinished") if e["address"] == task]
    assert [(e["step"], e["outcome"]) for e in finished] == [("wait", "ok")]
    assert again.result()["counts"]["joined"] == 1
    assert task in again.result()["removed"]


@pytest.mark.chaos
@pytest.mark.parametrize("point", REPLACE_POINTS, ids=lambda p: f"replace-{p.id}")
def test_group_set_resumes_a_replace_after_a_signal(
    groups_world: Any,
    replace_reference: Reference,
    make_cli: Any,
    scan: Any,
    tmp_path: Path,
    point: KillPoint,
) -> None:
    world = groups_world(tmp_path / "work", web_cpu=REPLACED_CPU)
    prepare = apply_first_version(groups_world)
    run_point(world, make_cli(world.cwd), point, replace_reference, scan, prepare=prepare)
