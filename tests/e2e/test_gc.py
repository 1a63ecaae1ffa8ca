"""``runner gc``: what a spec with a ``ttl`` made, applied and left, is deleted once it has
expired, in any workspace; what runner did not make, what has no expiry and what has not
expired yet are never touched."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from git_repo import git
from topwords_helpers import write_spec as write_batch_spec
from waiting import wait_for

pytestmark = pytest.mark.integration

SPEC = """\
kind: ContainerGroup
name: {name}
resourceGroup: {rg}
restartPolicy: Never
{ttl}containers:
  - name: job
    image: {image}
    cpu: 1
    memoryInGB: 0.5
    command: [sh, -c, "echo done"]
    secureEnv: {{API_TOKEN: tok-secret-4242}}
collect: {{logs: true, dir: out/{name}}}
teardown: never
"""


def write_spec(folder: Path, name: str, rg: str, image: str, ttl: str = "") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(SPEC.format(name=name, rg=rg, image=image, ttl=f"ttl: {ttl}\n" if ttl else ""))
    return path


def exists(aci_client: Any, rg: str, name: str) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        aci_client.container_groups.get(rg, name)
    except ResourceNotFoundError:
        return False
    return True


def untagged_group(aci_client: Any, resource_client: Any, rg: str, name: str, image: str) -> None:
    """A group another tool made: no tags at all, in a resource group without tags."""
    from azure.mgmt.containerinstance import models as m

    resource_client.resource_groups.create_or_update(rg, {"location": "westeurope"})
    group = m.ContainerGroup(
        location="westeurope",
        os_type="Linux",
        restart_policy="Never",
        containers=[
            m.Container(
                name="job",
                image=image,
                command=["sh", "-c", "echo foreign"],
                resources=m.ResourceRequirements(
                    requests=m.ResourceRequests(memory_in_gb=0.5, cpu=1)
                ),
            )
        ],
    )
    aci_client.container_groups.begin_create_or_update(rg, name, group).result()


def test_gc_deletes_an_expired_spec_and_nothing_else(
    cli: Any,
    names: dict[str, str],
    test_image: str,
    aci_client: Any,
    resource_client: Any,
    cleanup: list,
) -> None:
    rg, name = names["rg"], names["name"]
    expiring = write_spec(cli.cwd, name, rg, test_image, ttl="2s")
    kept = {
        "untagged": (rg + "-foreign", name + "-foreign"),
        "no-expiry": (rg + "-forever", name + "-forever"),
        "not-yet": (rg + "-later", name + "-later"),
    }
    cleanup.append(expiring)
    forever = write_spec(cli.cwd, kept["no-expiry"][1], kept["no-expiry"][0], test_image)
    later = write_spec(cli.cwd, kept["not-yet"][1], kept["not-yet"][0], test_image)
    ws = ["--workspace", cli.workspace]
    cli("apply", "--yes", str(expiring), *ws).expect(0)
    cli("apply", "--yes", str(forever), *ws).expect(0)
    cli("apply", "--yes", "--ttl", "1h", str(later), *ws).expect(0)
    untagged_group(aci_client, resource_client, *kept["untagged"], test_image)
    try:
        tags = aci_client.container_groups.get(rg, name).tags
        expires = datetime.strptime(tags["runner-expires"], "%Y-%m-%dT%H:%M:%SZ")
        assert expires.replace(tzinfo=UTC) - datetime.now(UTC) < timedelta(minutes=1)
        assert not any("tok-secret-4242" in v for v in tags.values())

        address = f"ContainerGroup/{rg}/{name}"
        status = wait_for(
            lambda: cli("status", str(expiring), *ws).expect(0).out,
            lambda out: "expired" in out,
            "status to show the group expired",
        )
        assert address in status
        assert "left" in cli("status", str(later), *ws).expect(0).out

        listed = cli("gc").expect(0).out
        assert address in listed and f"ResourceGroup/{rg}" in listed
        assert "runner gc --yes" in listed
        assert all(f"ContainerGroup/{g}/{n}" not in listed for g, n in kept.values())
        as_json = cli("gc", "--output", "json").expect(0).out
        documents = [json.loads(line) for line in as_json.splitlines()]
        (plan,) = [d["plan"] for d in documents if d["type"] == "plan"]
        assert address in [c["address"] for c in plan["changes"] if c["action"] == "delete"]
        assert exists(aci_client, rg, name)  # listing deletes nothing

        cli("gc", "--yes").expect(0)
        assert not exists(aci_client, rg, name)
        assert not resource_client.resource_groups.check_existence(rg)
        for g, n in kept.values():
            assert exists(aci_client, g, n), f"{g}/{n} was touched"
        assert "Nothing has expired" in cli("gc").expect(0).out
    finally:
        cleanup += [forever, later]
        aci_client.container_groups.begin_delete(*kept["untagged"])


def pool_options(pool_id: str, metadata: dict[str, str]) -> Any:
    from azure.batch import models as bm

    return bm.BatchPoolCreateOptions(
        id=pool_id,
        vm_size="STANDARD_D2S_V3",
        virtual_machine_configuration=bm.VirtualMachineConfiguration(
            image_reference=bm.BatchVmImageReference(
                publisher="canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts"
            ),
            node_agent_sku_id="batch.node.ubuntu 22.04",
        ),
        target_dedicated_nodes=0,
        metadata=[bm.BatchMetadataItem(name=k, value=v) for k, v in metadata.items()],
    )


def test_gc_reads_batch_and_blob_metadata_and_leaves_what_is_not_runner_made(
    cli: Any, unique_name: Any, batch_client: Any, blob_service: Any
) -> None:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    past = "2020-01-01T00:00:00Z"
    ours = {"managed-by": "runner", "runner-spec": "s", "runner-workspace": "elsewhere"}
    expired = {**ours, "runner-expires": past}
    pools = {
        "expired": (unique_name("gc-pool"), expired),
        "foreign": (unique_name("gc-pool"), {"runner-expires": past}),  # no managed-by
        "forever": (unique_name("gc-pool"), ours),
    }
    boxes = {
        "expired": (unique_name("gc-box"), {k.replace("-", "_"): v for k, v in expired.items()}),
        "foreign": (unique_name("gc-box"), {}),
        "forever": (unique_name("gc-box"), {k.replace("-", "_"): v for k, v in ours.items()}),
    }
    for pool_id, metadata in pools.values():
        batch_client.create_pool(pool_options(pool_id, metadata))
    for box, metadata in boxes.values():
        blob_service.create_container(box, metadata=metadata)

    def pool_gone(pool_id: str) -> bool:
        try:
            pool = batch_client.get_pool(pool_id)
        except ResourceNotFoundError:
            return True
        return str(getattr(pool.state, "value", pool.state)).lower() == "deleting"

    try:
        listed = cli("gc").expect(0).out
        assert f"BatchJob/s/pool/{pools['expired'][0]}" in listed
        assert f"BatchJob/s/container/{boxes['expired'][0]}" in listed
        cli("gc", "--yes").expect(0)
        wait_for(lambda: pool_gone(pools["expired"][0]), bool, "the expired pool to go")
        assert not blob_service.get_container_client(boxes["expired"][0]).exists()
        for key in ("foreign", "forever"):
            assert not pool_gone(pools[key][0]), f"{key} pool was touched"
            assert blob_service.get_container_client(boxes[key][0]).exists()
    finally:
        for pool_id, _ in pools.values():
            # Gone, or already going, as the expired one is.
            with contextlib.suppress(ResourceNotFoundError, HttpResponseError):
                batch_client.begin_delete_pool(pool_id, polling_interval=1)
        for box, _ in boxes.values():
            with contextlib.suppress(ResourceNotFoundError):
                blob_service.delete_container(box)


def test_expired_batch_job_carries_its_commit_and_goes_with_gc(
    cli: Any, unique_name: Any, batch_client: Any, blob_service: Any
) -> None:
    from azure.core.exceptions import ResourceNotFoundError

    name = unique_name("gcbatch")
    git(cli.cwd, "init", "-q")
    keep_all = {"job": "never", "pool": "never", "containers": "never"}
    path = write_batch_spec(
        cli.cwd, name, texts={"a.txt": "one two two\n"}, ttl="2s", teardown=keep_all
    )
    git(cli.cwd, "add", ".")
    git(cli.cwd, "commit", "-q", "-m", "batch")
    head = git(cli.cwd, "rev-parse", "HEAD")
    cli("apply", "--yes", path.name, "--workspace", cli.workspace).expect(0)

    pool = batch_client.get_pool(f"{name}-pool")
    job = batch_client.get_job(f"{name}-job")
    for item in (pool, job):
        metadata = {m.name: m.value for m in item.metadata}
        assert metadata["runner-commit"] == head
        assert metadata["runner-source"] == path.name
        assert "runner-expires" in metadata
    containers = [f"{name}-{role}" for role in ("application", "input", "output")]
    for box in containers:
        metadata = blob_service.get_container_client(box).get_container_properties().metadata
        assert metadata["runner_commit"] == head

    address = f"BatchJob/{name}/pool/{name}-pool"
    wait_for(lambda: cli("gc").expect(0).out, lambda out: address in out, "the pool to expire")
    cli("gc", "--yes").expect(0)

    def gone(read: Any, item_id: str) -> bool:
        """Absent, or on its way: Batch finishes a delete in the background."""
        try:
            state = read(item_id).state
        except ResourceNotFoundError:
            return True
        return str(getattr(state, "value", state)).lower() == "deleting"

    wait_for(lambda: gone(batch_client.get_job, f"{name}-job"), bool, "the job to go")
    wait_for(lambda: gone(batch_client.get_pool, f"{name}-pool"), bool, "the pool to go")
    assert not any(blob_service.get_container_client(b).exists() for b in containers)
