"""Container groups on Docker through the real azure-mgmt-containerinstance client."""

from __future__ import annotations

from typing import Any

import pytest
from aci_helpers import container, group, group_state
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from waiting import wait_for

APP = "mkdir -p /www && echo hello-from-app > /www/index.html && exec httpd -f -p 8080 -h /www"
SIDECAR = "while true; do wget -q -O - http://localhost:8080/ ; sleep 0.5; done"


@pytest.fixture
def docker_ready(docker_client: Any, test_image: str) -> str:
    return test_image


def test_sidecar_reaches_app_on_localhost_and_group_lifecycle(
    aci_client: Any, resource_group: str, docker_ready: str
) -> None:
    name = "web"
    body = group(
        [
            container("app", docker_ready, ["sh", "-c", APP], ports=[8080]),
            container("sidecar", docker_ready, ["sh", "-c", SIDECAR]),
        ]
    )
    created = aci_client.container_groups.begin_create_or_update(resource_group, name, body)
    assert created.result().provisioning_state == "Succeeded"

    got = wait_for(
        lambda: aci_client.container_groups.get(resource_group, name),
        lambda g: g.instance_view.state == "Running",
        "group running",
    )
    assert {c.name for c in got.containers} == {"app", "sidecar"}
    assert all(c.instance_view.current_state.state == "Running" for c in got.containers)

    logs = wait_for(
        lambda: aci_client.containers.list_logs(resource_group, name, "sidecar").content,
        lambda text: "hello-from-app" in text,
        "sidecar output",
    )
    assert "hello-from-app" in logs

    listed = list(aci_client.container_groups.list_by_resource_group(resource_group))
    assert [g.name for g in listed] == [name]
    assert listed[0].instance_view is None
    assert name in [g.name for g in aci_client.container_groups.list()]

    aci_client.container_groups.begin_restart(resource_group, name).result()
    wait_for(
        lambda: group_state(aci_client, resource_group, name),
        lambda s: s == "Running",
        "running after restart",
    )

    aci_client.container_groups.stop(resource_group, name)
    assert group_state(aci_client, resource_group, name) == "Stopped"

    aci_client.container_groups.begin_start(resource_group, name).result()
    wait_for(
        lambda: group_state(aci_client, resource_group, name),
        lambda s: s == "Running",
        "running after start",
    )

    aci_client.container_groups.begin_delete(resource_group, name).result()
    with pytest.raises(ResourceNotFoundError) as err:
        aci_client.container_groups.get(resource_group, name)
    assert err.value.error.code == "ResourceNotFound"


def test_run_to_completion_group_reports_exit_code_3(
    aci_client: Any, resource_group: str, docker_ready: str
) -> None:
    body = group(
        [container("task", docker_ready, ["sh", "-c", "echo counted 42 words; exit 3"])],
        restart_policy="Never",
    )
    aci_client.container_groups.begin_create_or_update(resource_group, "task", body).result()
    got = wait_for(
        lambda: aci_client.container_groups.get(resource_group, "task"),
        lambda g: g.instance_view.state in ("Succeeded", "Failed"),
        "task finished",
    )
    assert got.instance_view.state == "Failed"
    state = got.containers[0].instance_view.current_state
    assert (state.state, state.exit_code, state.detail_status) == ("Terminated", 3, "Error")
    assert state.finish_time is not None and state.start_time is not None
    assert (
        "counted 42 words"
        in aci_client.containers.list_logs(resource_group, "task", "task").content
    )


def test_command_override_env_and_secure_env_reach_the_container_but_not_get(
    aci_client: Any, resource_group: str, docker_ready: str
) -> None:
    body = group(
        [
            container(
                "task",
                docker_ready,
                ["sh", "-c", 'echo "$NumWords/$API_TOKEN"'],
                env={"NumWords": "5"},
                secure_env={"API_TOKEN": "s3cret"},
            )
        ],
        restart_policy="Never",
    )
    aci_client.container_groups.begin_create_or_update(resource_group, "env", body).result()
    got = wait_for(
        lambda: aci_client.container_groups.get(resource_group, "env"),
        lambda g: g.instance_view.state == "Succeeded",
        "task succeeded",
    )
    env = {e.name: (e.value, e.secure_value) for e in got.containers[0].environment_variables}
    assert env == {"NumWords": ("5", None), "API_TOKEN": (None, None)}
    assert "5/s3cret" in aci_client.containers.list_logs(resource_group, "env", "task").content


def test_missing_image_fails_the_group_with_an_event_saying_what_to_do(
    aci_client: Any, resource_group: str, docker_ready: str
) -> None:
    body = group([container("app", "runner-test/not-loaded:1")])
    poller = aci_client.container_groups.begin_create_or_update(resource_group, "noimage", body)
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert "runner-test/not-loaded:1" in str(err.value)
    got = aci_client.container_groups.get(resource_group, "noimage")
    assert got.provisioning_state == "Failed"
    assert got.instance_view.state == "Failed"
    events = got.containers[0].instance_view.events
    assert events[0].type == "Warning"
    assert "docker import" in events[0].message and "docker load" in events[0].message

    assert got.containers[0].instance_view.current_state.detail_status == "ErrImagePull"


def test_a_command_missing_from_the_image_is_the_cause_shown(
    aci_client: Any, resource_group: str, docker_ready: str
) -> None:
    body = group([container("app", docker_ready, ["/bin/no-such-command", "x"])], "Never")
    poller = aci_client.container_groups.begin_create_or_update(resource_group, "nocmd", body)
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert "could not start '/bin/no-such-command x'" in str(err.value)
    got = aci_client.container_groups.get(resource_group, "nocmd")
    assert got.provisioning_state == "Failed"
    view = got.containers[0].instance_view
    assert view.current_state.detail_status.startswith("StartError: exec:")
    assert "/bin/no-such-command" in view.current_state.detail_status
    assert "ErrImagePull" not in str(got.as_dict())
    assert [e.name for e in view.events] == ["Pulled", "Failed"]
    assert "/bin/no-such-command" in view.events[1].message


def test_update_in_place_and_update_needing_replace(
    aci_client: Any, resource_group: str, docker_ready: str
) -> None:
    sleeper = ["sh", "-c", "sleep 600"]
    body = group([container("app", docker_ready, sleeper, env={"V": "1"})])
    aci_client.container_groups.begin_create_or_update(resource_group, "upd", body).result()

    in_place = group([container("app", docker_ready, sleeper, env={"V": "2"})], tags={"k": "v"})
    updated = aci_client.container_groups.begin_create_or_update(
        resource_group, "upd", in_place
    ).result()
    assert updated.tags == {"k": "v"}
    assert updated.containers[0].environment_variables[0].value == "2"

    replace = group([container("app", docker_ready, sleeper, cpu=1.0, env={"V": "2"})])
    with pytest.raises(HttpResponseError) as err:
        aci_client.container_groups.begin_create_or_update(resource_group, "upd", replace)
    assert err.value.status_code == 409
    assert err.value.error.code == "InvalidContainerGroupUpdate"
    assert "cpu" in err.value.error.message


def test_on_failure_policy_restarts_a_failing_container(
    aci_client: Any, resource_group: str, docker_ready: str
) -> None:
    body = group(
        [container("flaky", docker_ready, ["sh", "-c", "echo attempt; exit 1"])],
        restart_policy="OnFailure",
    )
    aci_client.container_groups.begin_create_or_update(resource_group, "flaky", body).result()
    got = wait_for(
        lambda: aci_client.container_groups.get(resource_group, "flaky"),
        lambda g: g.containers[0].instance_view.restart_count >= 1,
        "a restart",
    )
    assert got.restart_policy == "OnFailure"
    assert got.instance_view.state == "Running"


def test_never_policy_does_not_restart_and_logs_honour_tail(
    aci_client: Any, resource_group: str, docker_ready: str
) -> None:
    body = group(
        [
            container(
                "lines", docker_ready, ["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done"]
            )
        ],
        restart_policy="Never",
    )
    aci_client.container_groups.begin_create_or_update(resource_group, "lines", body).result()
    got = wait_for(
        lambda: aci_client.container_groups.get(resource_group, "lines"),
        lambda g: g.instance_view.state == "Succeeded",
        "task succeeded",
    )
    assert got.containers[0].instance_view.restart_count == 0
    assert got.containers[0].instance_view.current_state.exit_code == 0
    tail = aci_client.containers.list_logs(resource_group, "lines", "lines", tail=2).content
    assert tail.split() == ["line4", "line5"]
    stamped = aci_client.containers.list_logs(
        resource_group, "lines", "lines", tail=1, timestamps=True
    ).content
    stamp, line = stamped.split()
    assert line == "line5" and stamp.startswith(
        got.containers[0].instance_view.current_state.start_time.strftime("%Y-")
    )


def test_cpu_and_memory_requests_become_engine_limits(
    aci_client: Any,
    resource_group: str,
    docker_ready: str,
    docker_client: Any,
    emulator: dict[str, Any],
) -> None:
    info = docker_client.info()
    supported = bool(info.get("CpuCfsQuota") and info.get("MemoryLimit"))
    body = group([container("app", docker_ready, ["sh", "-c", "sleep 600"], cpu=0.5, memory=0.25)])
    aci_client.container_groups.begin_create_or_update(resource_group, "limits", body).result()
    key = f"{emulator['arm']['subscription']}/{resource_group}/limits".lower()
    (app,) = docker_client.containers.list(
        filters={"label": [f"runner.local.group={key}", "runner.local.container=app"]}
    )
    # Where the engine cannot limit, the requests are only recorded (the group still runs).
    limits = (app.attrs["HostConfig"]["NanoCpus"], app.attrs["HostConfig"]["Memory"])
    assert limits == ((500_000_000, 256 * 1024 * 1024) if supported else (0, 0))
