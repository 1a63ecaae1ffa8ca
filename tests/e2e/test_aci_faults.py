"""Apply under trouble: throttling and server errors, an update Azure refuses in place, a
second apply while one is running, and Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

GROUPS = "Microsoft.ContainerInstance/containerGroups"
WAIT = 60.0  # an upper bound on waiting for a process to reach a point, never asserted


def test_apply_survives_a_storm_of_429_and_500(
    cli: Any,
    names: dict[str, str],
    test_image: str,
    spec: Any,
    faults: Any,
    aci_client: Any,
    cleanup: list[Path],
) -> None:
    cleanup.append(spec("single"))
    faults(
        [
            {
                "api": "arm",
                "method": "*",
                "route": GROUPS,
                "fault": "429",
                "count": 3,
                "retry_after": 1,
            },
            {"api": "arm", "method": "*", "route": GROUPS, "fault": "500", "count": 3},
            {
                "api": "arm",
                "method": "GET",
                "route": "resourcegroups",
                "fault": "429",
                "count": 2,
                "retry_after": 1,
            },
        ]
    )
    run = cli("apply", "--yes", *cli.spec_args(spec("single"), image=test_image, **names))
    run.expect(0)
    assert "retrying" in run.out
    group = aci_client.container_groups.get(names["rg"], names["name"])
    assert group.provisioning_state == "Succeeded"


def start_apply(cli: Any, args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "runner", "apply", "--yes", *args],
        cwd=cli.cwd,
        env=cli.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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
    faults([{"api": "arm", "method": "PUT", "route": GROUPS, "fault": "latency", "lro_latency": 8}])
    first = start_apply(cli, args)
    try:
        wait_for_line(first, "Creating...")
        second = cli("apply", "--yes", *args).expect(1)
        assert "lock" in second.err.lower()
        assert str(first.pid) in second.err
    finally:
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err


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
    seen = wait_for_line(proc, "Creation complete")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    text = "".join(seen) + out + err
    assert proc.returncode == 130, text
    assert f"ContainerGroup/{names['rg']}/{names['name']}" in text.split("Removed:", 1)[1]
    listed = {g.name for g in aci_client.container_groups.list_by_resource_group(names["rg"])}
    assert names["name"] not in listed
    assert group_containers(names["rg"], names["name"]) == []
