"""The local target's process: up, status, down, restarts, and its Docker containers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aci_helpers import container, group, group_state
from waiting import wait_for

from runner.backends import local_target
from runner.local.context import OWNER_LABEL


@pytest.fixture
def instant_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A target of its own whose groups run on the instant runtime (no Docker)."""
    monkeypatch.setenv("RUNNER_LOCAL_RUNTIME", "instant")
    state = tmp_path / "instant"
    yield state
    local_target.down(state, purge=True)


def test_up_is_idempotent_and_down_stops_the_process(instant_target: Path) -> None:
    first = local_target.up(instant_target)
    assert local_target.up(instant_target) == first
    assert local_target.status(instant_target) == first
    assert Path(first["ca_bundle"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    local_target.down(instant_target)
    assert local_target.status(instant_target) is None
    assert local_target.health(first) is None
    assert instant_target.exists()
    local_target.down(instant_target, purge=True)
    assert not instant_target.exists()


def test_resources_survive_a_restart_of_the_emulator(
    instant_target: Path, make_arm_client: Any
) -> None:
    status = local_target.up(instant_target)
    resources = make_arm_client(status, "resource")
    resources.resource_groups.create_or_update("keep", {"location": "westeurope"})
    aci = make_arm_client(status, "aci")
    body = group([container("app", "any-image:1")], tags={"owner": "me"})
    aci.container_groups.begin_create_or_update("keep", "kept", body).result()
    local_target.down(instant_target)

    restarted = local_target.up(instant_target)
    assert restarted["pid"] != status["pid"]
    assert restarted["ca_bundle"] == status["ca_bundle"]
    aci = make_arm_client(restarted, "aci")
    got = aci.container_groups.get("keep", "kept")
    assert (got.tags, got.containers[0].image) == ({"owner": "me"}, "any-image:1")
    wait_for(
        lambda: group_state(aci, "keep", "kept"),
        lambda s: s == "Running",
        "group running again after the restart",
    )
    assert make_arm_client(restarted, "resource").resource_groups.check_existence("keep")


def test_lists_are_paged_with_next_link(instant_target: Path, make_arm_client: Any) -> None:
    status = local_target.up(instant_target)
    make_arm_client(status, "resource").resource_groups.create_or_update(
        "many", {"location": "westeurope"}
    )
    aci = make_arm_client(status, "aci")
    for i in range(130):
        body = group([container("app", "any-image:1")])
        aci.container_groups.begin_create_or_update("many", f"g{i:03d}", body, polling=False)
    local_target.reset_counters(status)
    names = [g.name for g in aci.container_groups.list_by_resource_group("many")]
    assert names == [f"g{i:03d}" for i in range(130)]
    route = (
        "GET /subscriptions/{sub}/resourceGroups/{rg}/providers/"
        "Microsoft.ContainerInstance/containerGroups"
    )
    assert local_target.counters(status)[route] == 2
    assert len(list(aci.container_groups.list())) == 130


def test_deleting_a_resource_group_deletes_its_container_groups(
    emulator: dict[str, Any],
    make_arm_client: Any,
    docker_client: Any,
    test_image: str,
    unique_name: Any,
) -> None:
    rg = unique_name("rgcascade")
    resources = make_arm_client(emulator, "resource")
    resources.resource_groups.create_or_update(rg, {"location": "westeurope"})
    aci = make_arm_client(emulator, "aci")
    body = group([container("app", test_image, ["sh", "-c", "sleep 600"])])
    aci.container_groups.begin_create_or_update(rg, "inside", body).result()
    key = f"{emulator['arm']['subscription']}/{rg}/inside".lower()
    label = f"runner.local.group={key}"
    assert docker_client.containers.list(all=True, filters={"label": label})
    resources.resource_groups.begin_delete(rg).result()
    assert docker_client.containers.list(all=True, filters={"label": label}) == []
    assert rg not in [g.name for g in resources.resource_groups.list()]


def test_down_removes_the_targets_containers(
    tmp_path: Path, make_arm_client: Any, docker_client: Any, test_image: str
) -> None:
    state = tmp_path / "docker-target"
    status = local_target.up(state)
    try:
        make_arm_client(status, "resource").resource_groups.create_or_update(
            "rg", {"location": "westeurope"}
        )
        aci = make_arm_client(status, "aci")
        body = group([container("app", test_image, ["sh", "-c", "sleep 600"])])
        aci.container_groups.begin_create_or_update("rg", "web", body).result()
        instance = (state / "settings.json").read_text()
        owned = {"label": f"{OWNER_LABEL}"}
        # The engine's list with labels, in one call: other targets of this test run
        # remove their containers meanwhile, which a per-container read would trip on.
        mine = [
            c["Labels"]
            for c in docker_client.api.containers(all=True, filters=owned)
            if c["Labels"][OWNER_LABEL] in instance
        ]
        assert {labels["runner.local.role"] for labels in mine} == {"holder", "container"}
    finally:
        local_target.down(state, purge=True)
    left = [
        c["Id"]
        for c in docker_client.api.containers(all=True, filters=owned)
        if c["Labels"][OWNER_LABEL] in instance
    ]
    assert left == []


def test_no_reachable_docker_engine_fails_the_group_with_what_to_do(
    tmp_path: Path, make_arm_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    state = tmp_path / "no-engine"
    status = local_target.up(state)
    try:
        make_arm_client(status, "resource").resource_groups.create_or_update(
            "rg", {"location": "westeurope"}
        )
        aci = make_arm_client(status, "aci")
        poller = aci.container_groups.begin_create_or_update(
            "rg", "web", group([container("app", "any-image:1")])
        )
        from azure.core.exceptions import HttpResponseError

        with pytest.raises(HttpResponseError):
            poller.result()
        got = aci.container_groups.get("rg", "web")
        assert got.instance_view.state == "Failed"
        message = got.containers[0].instance_view.events[0].message
        assert "no Docker engine answers" in message and "DOCKER_HOST" in message
    finally:
        local_target.down(state, purge=True)


def test_cli_local_up_status_down(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "RUNNER_LOCAL_DIR": str(tmp_path / "cli"),
        "RUNNER_LOCAL_RUNTIME": "instant",
    }

    def runner(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "runner", "local", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    try:
        started = runner("up", "--fault", "fault=429,method=PUT,count=1", "--output", "json")
        assert started.returncode == 0, started.stderr
        import json

        status = json.loads(started.stdout)
        assert status["arm"]["endpoint"].startswith("https://127.0.0.1:")
        assert local_target.get_faults(status)[0]["fault"] == "429"
        shown = runner("status", "--output", "json")
        assert json.loads(shown.stdout) == status
        assert "ARM endpoint" in runner("status").stdout
        assert runner("down").returncode == 0
        stopped = runner("status")
        assert stopped.returncode == 1 and "not running" in stopped.stderr
    finally:
        runner("down", "--purge")


def test_down_after_the_emulator_was_killed_removes_its_containers(
    tmp_path: Path, make_arm_client: Any, docker_client: Any, test_image: str
) -> None:
    """A killed emulator cleans up nothing: ``down`` removes its containers for it."""
    state = tmp_path / "killed-target"
    status = local_target.up(state)
    instance = json.loads((state / "settings.json").read_text())["instance_id"]
    owned = {"label": f"{OWNER_LABEL}={instance}"}
    try:
        make_arm_client(status, "resource").resource_groups.create_or_update(
            "rg", {"location": "westeurope"}
        )
        aci = make_arm_client(status, "aci")
        body = group([container("app", test_image, ["sh", "-c", "sleep 600"])])
        aci.container_groups.begin_create_or_update("rg", "web", body).result()
        os.kill(status["pid"], signal.SIGKILL)
        wait_for(lambda: local_target.status(state), lambda s: s is None, "the emulator to die")
        assert docker_client.containers.list(all=True, filters=owned)
    finally:
        local_target.down(state, purge=True)
    assert docker_client.containers.list(all=True, filters=owned) == []
