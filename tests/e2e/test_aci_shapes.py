"""The three shapes of the Azure Container Instances sample, end to end through the CLI:
a single app, an app with a sidecar that reaches it on localhost, and a run-to-completion
task whose logs are collected."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

pytestmark = pytest.mark.integration

WAIT = 60.0  # an upper bound on waiting for a container's output, never a timing assert


def test_single_app_is_created_then_a_second_plan_and_apply_change_nothing(
    cli: Any,
    names: dict[str, str],
    test_image: str,
    aci_client: Any,
    requests_seen: Any,
    cleanup: list[Path],
    spec: Any,
) -> None:
    args = cli.spec_args(spec("single"), image=test_image, **names)
    cleanup.append(spec("single"))

    first = cli("apply", "--yes", *args).expect(0)
    assert f"ContainerGroup/{names['rg']}/{names['name']} will be created" in first.out
    assert "Plan: 2 to add, 0 to change, 0 to start, 0 to destroy." in first.out

    group = aci_client.container_groups.get(names["rg"], names["name"])
    assert group.containers[0].image == test_image
    assert group.tags["managed-by"] == "runner"
    assert group.tags["runner-workspace"] == cli.workspace

    again = cli("plan", "--detailed-exitcode", *args).expect(0)
    assert "No changes. Live state matches the specs." in again.out

    requests_seen.reset()
    cli("apply", "--yes", *args).expect(0)
    assert requests_seen.puts() == 0

    rows = json.loads(cli("status", *args, "--output", "json").expect(0).out)
    row = next(r for r in rows if r["address"].endswith(f"/{names['name']}"))
    assert row["kind"] == "ContainerGroup"
    assert row["state"] == "Running"


def test_sidecar_reaches_the_app_on_localhost(
    cli: Any, names: dict[str, str], test_image: str, cleanup: list[Path], spec: Any
) -> None:
    args = cli.spec_args(spec("sidecar"), image=test_image, **names)
    cleanup.append(spec("sidecar"))
    cli("apply", "--yes", *args).expect(0)

    deadline = time.monotonic() + WAIT
    logs = ""
    while time.monotonic() < deadline and "sidecar-reached-app" not in logs:
        logs = cli("logs", *args, "--container", "sidecar").expect(0).out
        time.sleep(0.3)
    assert "hello-from-app" in logs
    assert "sidecar-reached-app" in logs


def test_task_runs_to_completion_collects_logs_and_exit_codes_then_tears_down(
    cli: Any,
    names: dict[str, str],
    test_image: str,
    aci_client: Any,
    group_containers: Any,
    spec: Any,
) -> None:
    args = cli.spec_args(spec("task"), image=test_image, out="out/task", **names)

    run = cli("apply", "--yes", *args).expect(0)

    collected = cli.cwd / "out" / "task"
    texts = {p.name: p.read_text() for p in collected.rglob("*") if p.is_file()}
    assert any("numwords=5 minlength=8" in t for t in texts.values()), texts
    assert any("to-stderr" in t for t in texts.values()), texts
    assert "Wrote out/task/" in run.out  # the files it wrote, relative to the cwd

    # teardown: onSuccess, and it succeeded: nothing left in the emulator or in Docker
    listed = [g.name for g in aci_client.container_groups.list_by_resource_group(names["rg"])]
    assert names["name"] not in listed
    assert group_containers(names["rg"], names["name"]) == []


def test_failed_task_exits_non_zero_and_keeps_its_logs(
    cli: Any, names: dict[str, str], test_image: str, cleanup: list[Path], spec: Any
) -> None:
    args = cli.spec_args(spec("task"), image=test_image, out="out/failed", exit="3", **names)
    cleanup.append(spec("task"))

    run = cli("apply", "--yes", *args).expect(1)

    texts = [p.read_text() for p in (cli.cwd / "out" / "failed").rglob("*") if p.is_file()]
    assert any("numwords=5" in t for t in texts)
    assert "3" in run.text


def test_logs_follow_prints_lines_until_the_task_finishes(
    cli: Any, names: dict[str, str], test_image: str, aci_client: Any, spec: Any
) -> None:
    args = cli.spec_args(spec("task"), image=test_image, sleep="3", teardown="never", **names)
    applying = subprocess.Popen(
        [sys.executable, "-m", "runner", "apply", "--yes", *args],
        cwd=cli.cwd,
        env=cli.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + WAIT
        state = None
        while state != "Running" and time.monotonic() < deadline:
            try:
                view = aci_client.container_groups.get(names["rg"], names["name"]).instance_view
                state = view.state if view else None
            except ResourceNotFoundError:
                pass  # not created yet
            time.sleep(0.2)
        followed = cli("logs", "--follow", *args).expect(0)
        assert "numwords=5 minlength=8" in followed.out
        view = aci_client.container_groups.get(names["rg"], names["name"]).instance_view
        assert view.state == "Succeeded"  # --follow returned because the task finished
    finally:
        out, _ = applying.communicate(timeout=120)
    assert applying.returncode == 0, out
    cli("destroy", "--yes", "--workspace", cli.workspace).expect(0)
