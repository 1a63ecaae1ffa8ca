"""``destroy`` and ``apply --prune``: what the runner made goes, nothing is left in the
emulator or in Docker, and what it did not make is never touched."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration


def group_names(aci_client: Any, rg: str) -> set[str]:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return {g.name for g in aci_client.container_groups.list_by_resource_group(rg)}
    except ResourceNotFoundError:
        return set()


def test_destroy_without_paths_removes_everything_of_the_workspace(
    cli: Any,
    names: dict[str, str],
    test_image: str,
    spec: Any,
    aci_client: Any,
    resource_client: Any,
    group_containers: Any,
) -> None:
    side = {"rg": names["rg"], "name": names["name"] + "-side"}
    cli("apply", "--yes", *cli.spec_args(spec("single"), image=test_image, **names)).expect(0)
    cli("apply", "--yes", *cli.spec_args(spec("sidecar"), image=test_image, **side)).expect(0)
    assert group_names(aci_client, names["rg"]) == {names["name"], side["name"]}

    run = cli("destroy", "--yes", "--workspace", cli.workspace).expect(0)
    assert f"ContainerGroup/{names['rg']}/{names['name']}" in run.out

    assert group_names(aci_client, names["rg"]) == set()
    assert not resource_client.resource_groups.check_existence(names["rg"])  # runner made it
    assert group_containers(names["rg"], names["name"]) == []
    assert group_containers(names["rg"], side["name"]) == []
    again = cli("destroy", "--yes", "--workspace", cli.workspace).expect(0)
    assert "Nothing to destroy." in again.out


def test_destroy_with_a_path_leaves_the_workspace_other_groups(
    cli: Any, names: dict[str, str], test_image: str, spec: Any, aci_client: Any, cleanup: list
) -> None:
    cleanup.append(spec("single"))
    other = {"rg": names["rg"], "name": names["name"] + "-keep"}
    single = cli.spec_args(spec("single"), image=test_image, **names)
    cli("apply", "--yes", *single).expect(0)
    cli("apply", "--yes", *cli.spec_args(spec("sidecar"), image=test_image, **other)).expect(0)

    cli("destroy", "--yes", *single).expect(0)
    assert group_names(aci_client, names["rg"]) == {other["name"]}


def test_prune_deletes_orphans_of_the_workspace(
    cli: Any, names: dict[str, str], test_image: str, spec: Any, aci_client: Any, cleanup: list
) -> None:
    cleanup.append(spec("single"))
    gone = {"rg": names["rg"], "name": names["name"] + "-gone"}
    single = cli.spec_args(spec("single"), image=test_image, **names)
    cli("apply", "--yes", *single).expect(0)
    cli("apply", "--yes", *cli.spec_args(spec("sidecar"), image=test_image, **gone)).expect(0)

    plan = cli("plan", *single).expect(0)
    assert f"ContainerGroup/{gone['rg']}/{gone['name']}" in plan.out  # listed as an orphan
    assert group_names(aci_client, names["rg"]) == {names["name"], gone["name"]}

    cli("apply", "--yes", "--prune", *single).expect(0)
    assert group_names(aci_client, names["rg"]) == {names["name"]}


def test_group_made_elsewhere_is_reported_and_never_touched(
    cli: Any,
    names: dict[str, str],
    test_image: str,
    spec: Any,
    aci_client: Any,
    resource_client: Any,
) -> None:
    from azure.mgmt.containerinstance.models import (
        Container,
        ContainerGroup,
        ResourceRequests,
        ResourceRequirements,
    )

    resource_client.resource_groups.create_or_update(names["rg"], {"location": "westeurope"})
    theirs = ContainerGroup(
        location="westeurope",
        os_type="Linux",
        containers=[
            Container(
                name="app",
                image=test_image,
                command=["sleep", "3600"],
                resources=ResourceRequirements(requests=ResourceRequests(cpu=1, memory_in_gb=0.5)),
            )
        ],
    )
    aci_client.container_groups.begin_create_or_update(names["rg"], names["name"], theirs).result()

    args = cli.spec_args(spec("single"), image=test_image, **names)
    # A conflict is an error: it wins over "no changes" (0) and "changes" (2).
    plan = cli("plan", "--detailed-exitcode", *args).expect(1)
    assert "exists but was not made by this workspace" in plan.out
    address = f"ContainerGroup/{names['rg']}/{names['name']}"
    assert f"Error: {address} cannot be applied: exists and is not managed by runner" in plan.err
    applied = cli("apply", "--yes", *args).expect(1)
    assert f"{address} was not touched: exists and is not managed by runner" in applied.out
    assert applied.out.count(f"{address} was not touched") == 1
    group = aci_client.container_groups.get(names["rg"], names["name"])
    assert group.containers[0].command == ["sleep", "3600"]
    assert not group.tags
    refused = cli("destroy", "--yes", *args).expect(0)
    assert "exists but was not made by this workspace" in refused.out
    assert "Nothing to destroy." in refused.out
    assert names["name"] in group_names(aci_client, names["rg"])
    aci_client.container_groups.begin_delete(names["rg"], names["name"]).result()
