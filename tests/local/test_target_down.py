"""A local target that is not running is reported at once, naming the endpoint and what to
do; a live target that drops a connection is still retried."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runner_cli import start_runner
from target_helpers import batch_spec, polling, read_until, target_env
from waiting import wait_for

from runner.backends import aci as aci_backend
from runner.backends import blob as blob_backend
from runner.backends import local_target
from runner.backends.target import local_target as target_of
from runner.errors import TargetError, TemporaryError

pytestmark = pytest.mark.integration

# Generous bounds for what now takes seconds; a dead target used to cost minutes of retries.
REPORT_TIMEOUT = 60


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("RUNNER_LOCAL_RUNTIME", "instant")
    folder = tmp_path / "target"
    yield folder
    local_target.down(folder, purge=True)


def kill_emulator(status: dict[str, Any]) -> None:
    os.kill(status["pid"], signal.SIGKILL)
    wait_for(
        lambda: local_target.status(Path(status["ca_bundle"]).parent),
        lambda s: s is None,
        "the emulator to die",
    )


def test_apply_reports_a_killed_emulator_at_once(state: Path, tmp_path: Path) -> None:
    status = local_target.up(state)
    spec = batch_spec(tmp_path, "dead", "sleep 60", files=2, slots=2)
    apply = start_runner(
        target_env(state),
        tmp_path,
        "apply",
        str(spec),
        "--workspace",
        "dead-ws",
        "--yes",
        "--output",
        "json",
    )
    try:
        read_until(apply, polling)
        kill_emulator(status)
        out, err = apply.communicate(timeout=REPORT_TIMEOUT)
    finally:
        if apply.poll() is None:
            apply.kill()
            apply.communicate()
    assert apply.returncode == 1, out + err
    batch = status["batch"]["url"]
    result = json.loads(out.strip().splitlines()[-1])
    first = result["errors"][0]
    assert f"nothing listens at {batch}, the local target's Batch URL" in first
    assert f"its emulator (pid {status['pid']}, state folder {state}) is not running" in first
    assert "runner local up" in first
    assert "gave up after" not in out + err  # no retries were spent on it


def test_arm_calls_fail_at_once_when_the_emulator_is_gone(state: Path) -> None:
    status = local_target.up(state)
    client = target_of(status).aci_client(status["arm"]["subscription"])
    assert aci_backend.read_container_group(client, "rg", "nothing") is None
    kill_emulator(status)
    with pytest.raises(TargetError) as raised:
        aci_backend.read_container_group(client, "rg", "nothing")
    assert f"nothing listens at {status['arm']['endpoint']}" in str(raised.value)
    assert "ARM endpoint" in str(raised.value)


def test_a_killed_azurite_is_named_with_what_to_do(state: Path) -> None:
    status = local_target.up(state)
    service = target_of(status).blob_service("local")
    assert blob_backend.read_containers(service, ["nothing"]) == {}
    children = json.loads((state / "children.json").read_text())
    os.kill(children["azurite"], signal.SIGKILL)
    with pytest.raises(TargetError) as raised:
        blob_backend.read_containers(service, ["nothing"])
    message = str(raised.value)
    assert f"its Azurite (pid {children['azurite']}) is not running" in message
    assert "runner local down" in message
    assert local_target.status(state) is not None  # the emulator itself still runs


def test_a_dropped_connection_from_a_live_target_is_still_temporary(state: Path) -> None:
    from runner.backends import local_target

    status = local_target.up(state)
    client = target_of(status).aci_client(status["arm"]["subscription"])
    local_target.set_faults(
        status,
        [{"api": "arm", "method": "GET", "route": "containerGroups", "fault": "drop", "count": 1}],
    )
    with pytest.raises(TemporaryError):
        aci_backend.read_container_group(client, "rg", "nothing")
    assert aci_backend.read_container_group(client, "rg", "nothing") is None
