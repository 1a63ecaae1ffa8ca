"""Fault storms: random schedules of 429 with Retry-After, 500, dropped connections and
slow requests and long-running operations, on ARM (container groups) and Batch (the
top-N job). Apply must converge to the state an undisturbed run makes, and the retries
stay bounded: no more retry events than faults injected, and no more writes reaching the
emulator than an undisturbed run sends plus one per fault. A permanent error is not
retried at all.

Blob storms are in test_blob_storms.py (Azurite has no fault injection; a proxy in front
of it injects them). The default run tries a few schedules; ``-m chaos`` many more.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from storm_helpers import TOTALS, injected, json_events, rules, writes
from topwords_helpers import read_report, reference_top, result_of, write_spec

pytestmark = pytest.mark.integration

GROUPS = "Microsoft.ContainerInstance/containerGroups"
ARM_ROUTES = ["/resourcegroups/{rg}", GROUPS, "/operations/", "*"]
BATCH_ROUTES = ["/pools", "/jobs", "addtaskcollection", "taskcounts", "*"]
ADD_TASKS = {"api": "batch", "method": "POST", "route": "addtaskcollection"}
COUNTS = {"api": "batch", "method": "GET", "route": "taskcounts"}
KEEP_ALL = {"job": "never", "pool": "never", "containers": "never"}
_examples = itertools.count(1)


def rules_after(faults: Any) -> list[dict[str, Any]]:
    from runner.backends import local_target

    return local_target.get_faults(faults.status)


def storm_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def essentials(group: Any) -> dict[str, Any]:
    """What a group is, names aside: compared between a storm's run and a quiet one."""
    tags = dict(group.tags or {})
    return {
        "state": group.provisioning_state,
        "restart": group.restart_policy,
        "ports": sorted(p.port for p in group.ip_address.ports) if group.ip_address else [],
        "containers": [
            (
                c.name,
                c.image,
                c.resources.requests.cpu,
                c.resources.requests.memory_in_gb,
                tuple(c.command or ()),
                sorted(e.name for e in c.environment_variables or ()),
            )
            for c in group.containers
        ],
        "tags": {k: tags[k] for k in ("managed-by", "runner-workspace") if k in tags},
        "tag_keys": sorted(k for k in tags if not k.startswith("runner-fp-")),
    }


def arm_storm(cli: Any, faults: Any, aci_client: Any, spec: Any, image: str, n: int) -> None:
    single = spec("single")

    def apply(rg: str, name: str) -> Any:
        args = cli.spec_args(single, image=image, rg=rg, name=name)
        return cli("apply", "--yes", "--output", "json", *args)

    made: list[tuple[str, str]] = []
    faults.clear()
    faults.reset_counters()
    quiet_names = (f"storm-rg-{next(_examples)}", f"storm-cg-{next(_examples)}")
    made.append(quiet_names)
    apply(*quiet_names).expect(0)
    quiet_writes = writes(faults.counters())
    quiet = essentials(aci_client.container_groups.get(*quiet_names))

    hits_seen: list[int] = []

    @storm_settings(n)
    @given(rules("arm", ARM_ROUTES, ["PUT", "GET", "*"]))
    @example([{"api": "arm", "method": "PUT", "route": GROUPS, "fault": "500", "count": 1}])
    def one(schedule: list[dict[str, Any]]) -> None:
        names = (f"storm-rg-{next(_examples)}", f"storm-cg-{next(_examples)}")
        made.append(names)
        faults.reset_counters()
        faults.set(schedule)
        try:
            run = apply(*names)
            hits = injected(rules_after(faults))
        finally:
            faults.clear()
        run.expect(0)
        retries = len(json_events(run.out, "StepRetrying"))
        TOTALS.add(hits, retries)
        hits_seen.append(hits)
        assert retries <= hits, f"{retries} retries for {hits} faults: {schedule}"
        assert writes(faults.counters()) <= quiet_writes + hits, faults.counters()
        assert essentials(aci_client.container_groups.get(*names)) == quiet
        args = cli.spec_args(single, image=image, rg=names[0], name=names[1])
        cli("plan", "--detailed-exitcode", *args).expect(0)

    try:
        one()
        assert sum(hits_seen) > 0, "no fault was injected: the storm proved nothing"
    finally:
        for rg, name in made:
            aci_client.container_groups.begin_delete(rg, name)


def test_container_group_apply_converges_under_arm_storms(
    cli: Any, faults: Any, aci_client: Any, spec: Any, test_image: str
) -> None:
    arm_storm(cli, faults, aci_client, spec, test_image, 2)


@pytest.mark.chaos
def test_container_group_apply_converges_under_many_arm_storms(
    cli: Any, faults: Any, aci_client: Any, spec: Any, test_image: str
) -> None:
    arm_storm(cli, faults, aci_client, spec, test_image, 25)


def batch_storm(cli: Any, faults: Any, batch_client: Any, folder: Path, n: int) -> None:
    text = "storm storm calm storm calm eye\n"
    made: list[Path] = []

    def job_spec() -> Path:
        path = write_spec(
            folder / f"s{next(_examples)}",
            f"storm-tw-{next(_examples)}",
            texts={"eye.txt": text},
            teardown=KEEP_ALL,
        )
        made.append(path)
        return path

    def apply(path: Path) -> Any:
        return cli("apply", *cli.spec_args(path), "--yes", "--output", "json")

    faults.clear()
    faults.reset_counters()
    quiet_writes_run = apply(job_spec()).expect(0)
    quiet_writes = writes(faults.counters())
    assert result_of(quiet_writes_run.out)["counts"]["succeeded"] == 1

    hits_seen: list[int] = []

    @storm_settings(n)
    @given(rules("batch", BATCH_ROUTES, ["POST", "GET", "*"]))
    @example([{**ADD_TASKS, "fault": "drop", "count": 1}])
    @example([{**COUNTS, "fault": "429", "count": 2, "retry_after": 1}])
    def one(schedule: list[dict[str, Any]]) -> None:
        path = job_spec()
        faults.reset_counters()
        faults.set(schedule)
        try:
            run = apply(path)
            hits = injected(rules_after(faults))
        finally:
            faults.clear()
        run.expect(0)
        retries = len(json_events(run.out, "StepRetrying"))
        TOTALS.add(hits, retries)
        hits_seen.append(hits)
        assert retries <= hits, f"{retries} retries for {hits} faults: {schedule}"
        # Batch clients also retry inside the SDK (3 times): each fault costs one request.
        assert writes(faults.counters()) <= quiet_writes + hits, faults.counters()
        counts = result_of(run.out)["counts"]
        assert counts["succeeded"] == 1 and counts["failed"] == 0, counts
        name = path.stem
        words, _ = read_report(cli.cwd / "out" / name / "eye_OUTPUT.txt")
        assert words == reference_top(path.parent / "topwords" / "eye.txt", 3)
        tasks = list(batch_client.list_tasks(f"{name}-job"))
        assert [t.id for t in tasks] == ["topwords-eye"]  # added once, never twice
        assert tasks[0].execution_info.retry_count == 0
        cli("plan", "--detailed-exitcode", *cli.spec_args(path)).expect(0)

    try:
        one()
        assert sum(hits_seen) > 0, "no fault was injected: the storm proved nothing"
    finally:
        # Deletes sent, not awaited: names are unique and the target is purged at the end.
        for path in made:
            batch_client.begin_delete_job(f"{path.stem}-job")
            batch_client.begin_delete_pool(f"{path.stem}-pool")


def test_topwords_apply_converges_under_batch_storms(
    cli: Any, faults: Any, batch_client: Any, tmp_path: Path
) -> None:
    batch_storm(cli, faults, batch_client, tmp_path / "specs", 1)


@pytest.mark.chaos
def test_topwords_apply_converges_under_many_batch_storms(
    cli: Any, faults: Any, batch_client: Any, tmp_path: Path
) -> None:
    batch_storm(cli, faults, batch_client, tmp_path / "specs", 20)


# --- permanent errors -------------------------------------------------------------------


def test_a_permanent_arm_error_is_not_retried(
    emulator: dict[str, Any], faults: Any, resource_client: Any
) -> None:
    """A 400 with a code (an invalid group name, refused by the emulator as by ARM) goes
    through the runner's client, translation and retry loop: one request, no retry."""
    from runner.backends import aci
    from runner.backends.errors import translate
    from runner.backends.target import local_target
    from runner.engine.events import StepRetrying
    from runner.engine.retry import call_with_retry
    from runner.errors import PermanentError
    from runner.spec.models import ContainerGroup

    target = local_target(emulator)
    client = target.aci_client(emulator["arm"]["subscription"])
    good = ContainerGroup.model_validate(
        {
            "kind": "ContainerGroup",
            "name": "fine",
            "resourceGroup": "storm-permanent",
            "containers": [{"name": "c", "image": "x"}],
        }
    )
    resource_client.resource_groups.create_or_update("storm-permanent", {"location": "westeurope"})
    bad = good.model_copy(update={"name": "Not_Valid"})  # past the spec's own check
    seen: list[Any] = []

    def put() -> Any:
        try:
            return aci.begin_put(client, bad, workspace="storm")
        except Exception as exc:
            raise translate(exc) from exc

    faults.reset_counters()
    with pytest.raises(PermanentError) as info:
        call_with_retry(
            put, address="ContainerGroup/storm-permanent/Not_Valid", what="create", emit=seen.append
        )
    assert info.value.code == "InvalidContainerGroupName"
    assert [e for e in seen if isinstance(e, StepRetrying)] == []
    puts = {k: n for k, n in faults.counters().items() if k.startswith("PUT ")}
    assert sum(puts.values()) == 1, puts


def test_a_permanent_batch_error_is_not_retried(emulator: dict[str, Any], faults: Any) -> None:
    """A 400 from Batch (a task id Batch refuses) through the runner's Batch client (which
    retries 5xx and 429 inside the SDK) and retry loop: one request, no retry."""
    from azure.batch import models as bm

    from runner.backends.errors import translate
    from runner.backends.target import local_target
    from runner.engine.events import StepRetrying
    from runner.engine.retry import call_with_retry
    from runner.errors import PermanentError

    client = local_target(emulator).batch_client(emulator["batch"]["account"])
    seen: list[Any] = []

    def create() -> Any:
        try:
            return client.create_job(
                bm.BatchJobCreateOptions(id="not valid!", pool_info=bm.BatchPoolInfo(pool_id="p"))
            )
        except Exception as exc:
            raise translate(exc) from exc

    faults.reset_counters()
    with pytest.raises(PermanentError) as info:
        call_with_retry(create, address="BatchJob/x/job", what="create", emit=seen.append)
    assert info.value.code == "InvalidPropertyValue"
    assert [e for e in seen if isinstance(e, StepRetrying)] == []
    assert faults.counters().get("POST /jobs") == 1, faults.counters()
