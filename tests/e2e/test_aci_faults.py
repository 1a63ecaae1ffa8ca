"""Apply under trouble: throttling and server errors, an update Azure refuses in place, a
second apply while one is running, and Ctrl-C."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from runner_cli import start_runner

from runner.backends import local_target

pytestmark = pytest.mark.integration

GROUPS = "Microsoft.ContainerInstance/containerGroups"
WAIT = 60.0  # an upper bound on waiting for a process to reach a point, never asserted


def test_apply_names_each_retry_of_a_storm_of_429_500_and_drops(
    cli: Any,
    names: dict[str, str],
    test_image: str,
    spec: Any,
    faults: Any,
    aci_client: Any,
    cleanup: list[Path],
) -> None:
    cleanup.append(spec("single"))
    # Writes and operation polls only: the plan's reads come first and would take the
    # faults otherwise. Spread over three calls so the backoff of each stays short.
    rg_put = {"api": "arm", "method": "PUT", "route": "/resourcegroups/{rg}"}
    group_put = {"api": "arm", "method": "PUT", "route": GROUPS}
    poll = {"api": "arm", "method": "GET", "route": "/operations/"}
    faults.set(
        [
            {**rg_put, "fault": "429", "count": 2, "retry_after": 1},
            {**group_put, "fault": "500", "count": 1},
            {**group_put, "fault": "drop", "count": 1},
            {**poll, "fault": "429", "count": 1, "retry_after": 1},
            {**poll, "fault": "500", "count": 1},
        ]
    )
    run = cli("apply", "--yes", *cli.spec_args(spec("single"), image=test_image, **names))
    run.expect(0)
    retries = [line for line in run.out.splitlines() if "retrying in" in line]
    # A line per failed write (two 429s, a 500, a drop), never more lines than faults hit:
    # an operation poll is made only while the create still runs, and a failed poll may
    # simply be read again at the next poll.
    hits = sum(rule.get("hits", 0) for rule in local_target.get_faults(faults.status))
    assert 4 <= len(retries) <= hits, run.out
    for seen in ("429", "500", "connection"):
        assert any(seen in line for line in retries), run.out
    assert faults.counters()  # the emulator answered through it all
    group = aci_client.container_groups.get(names["rg"], names["name"])
    assert group.provisioning_state == "Succeeded"


def start_apply(cli: Any, args: list[str]) -> subprocess.Popen[str]:
    return start_runner(cli.env, cli.cwd, "apply", "--yes", *args)


def wait_for_line(proc: subprocess.Popen[str], needle: str) -> list[str]:
    """Reads the process's output until a line holds ``needle``; returns the lines read."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"no line with {needle!r} in:\n{''.join(seen)}")


def test_second_concurrent_apply_fails_fast_naming_the_holder(
    cli: Any,
    names: dict[str, str],
    test_image: str,
    spec: Any,
    faults: Any,
    cleanup: list[Path],
) -> None:
    cleanup.append(spec("single"))
    args = cli.spec_args(spec("single"), image=test_image, **names)
    slow = {"api": "arm", "method": "PUT", "route": GROUPS, "fault": "latency", "lro_latency": 5}
    faults.set([slow])
    first = start_apply(cli, args)
    try:
        wait_for_line(first, "Creating...")
        second = cli("apply", "--yes", *args).expect(1)
        assert "lock" in second.err.lower()
        assert str(first.pid) in second.err
    finally:
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err


def wait_until_running(aci_client: Any, rg: str, name: str) -> None:
    from azure.core.exceptions import ResourceNotFoundError

    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            group = aci_client.container_groups.get(rg, name)
        except ResourceNotFoundError:
            group = None
        if group is not None and group.instance_view and group.instance_view.state == "Running":
            return
        time.sleep(0.2)
    raise AssertionError(f"{rg}/{name} did not reach Running")


def test_ctrl_c_tears_down_and_exits_130(
    cli: Any,
    names: dict[str, str],
    test_image: str,
    spec: Any,
    aci_client: Any,
    group_containers: Any,
) -> None:
    args = cli.spec_args(
        spec("task"), image=test_image, sleep="600", teardown="always", out="out/ctrl-c", **names
    )
    proc = start_apply(cli, args)
    wait_until_running(aci_client, names["rg"], names["name"])
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    text = out + err
    assert proc.returncode == 130, text
    assert f"ContainerGroup/{names['rg']}/{names['name']}" in text.split("Removed:", 1)[1]
    listed = {g.name for g in aci_client.container_groups.list_by_resource_group(names["rg"])}
    assert names["name"] not in listed
    assert group_containers(names["rg"], names["name"]) == []


def read_until(stream: Any, needle: str) -> str:
    """Reads ``stream`` a character at a time (a prompt ends without a newline)."""
    seen = ""
    deadline = time.monotonic() + WAIT
    while needle not in seen and time.monotonic() < deadline:
        char = stream.read(1)
        if not char:
            break
        seen += char
    assert needle in seen, seen
    return seen


def test_update_refused_by_azure_falls_back_to_replace(
    cli: Any,
    names: dict[str, str],
    test_image: str,
    second_image: str,
    spec: Any,
    aci_client: Any,
    requests_seen: Any,
    cleanup: list[Path],
) -> None:
    """The plan says "update in place"; while apply waits for its confirmation, the live
    group is re-made with another CPU count (as a colleague's change would), so ACI answers
    the PUT with InvalidContainerGroupUpdate and the runner replaces the group instead."""
    cleanup.append(spec("single"))
    cli("apply", "--yes", *cli.spec_args(spec("single"), image=test_image, **names)).expect(0)
    args = cli.spec_args(spec("single"), image=second_image, **names)

    controller, terminal = pty.openpty()
    proc = start_runner(cli.env, cli.cwd, "apply", *args, stdin=terminal)
    os.close(terminal)
    try:
        read_until(proc.stderr, "Enter a value")
        live = aci_client.container_groups.get(names["rg"], names["name"])
        aci_client.container_groups.begin_delete(names["rg"], names["name"]).result()
        live.containers[0].resources.requests.cpu = 2
        aci_client.container_groups.begin_create_or_update(
            names["rg"], names["name"], live
        ).result()
        requests_seen.reset()
        os.write(controller, b"yes\n")
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    assert "will be updated in place" in out
    assert "InvalidContainerGroupUpdate" in out + err
    assert requests_seen.deletes() == 1
    group = aci_client.container_groups.get(names["rg"], names["name"])
    assert group.containers[0].image == second_image
    assert group.containers[0].resources.requests.cpu == 1
