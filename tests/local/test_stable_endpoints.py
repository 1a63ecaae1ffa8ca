"""A restarted local target listens where it did before, as Azure's endpoints never move:
the SAS URLs of queued Batch tasks and the connection strings handed out stay valid. A port
taken in between is an error that names it and says what to do."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runner_cli import runner, start_runner
from target_helpers import azurites, batch_spec, polling, read_until, result_of, target_env
from waiting import wait_for

from runner.backends import local_target
from runner.errors import TargetError

pytestmark = pytest.mark.integration


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "target"
    yield folder
    local_target.down(folder, purge=True)


def endpoints(status: dict[str, Any]) -> tuple[str, str, str]:
    return (status["arm"]["endpoint"], status["batch"]["url"], status["storage"]["blob_endpoint"])


def test_endpoints_stay_the_same_across_a_restart_and_a_crash(state: Path) -> None:
    first = local_target.up(state)
    local_target.down(state)
    restarted = local_target.up(state)
    assert restarted["pid"] != first["pid"]
    assert endpoints(restarted) == endpoints(first)

    # A killed emulator leaves its Azurite listening; the restart stops it and takes its port.
    os.kill(restarted["pid"], signal.SIGKILL)
    wait_for(lambda: local_target.status(state), lambda s: s is None, "the emulator to die")
    again = local_target.up(state)
    assert endpoints(again) == endpoints(first)
    assert len(azurites(state)) == 1


@pytest.mark.parametrize("role", ["arm", "blob"])
def test_a_port_taken_while_stopped_is_named_with_what_to_do(state: Path, role: str) -> None:
    status = local_target.up(state)
    url = status["arm"]["endpoint"] if role == "arm" else status["storage"]["blob_endpoint"]
    port = int(url.split(":")[2].split("/")[0])
    local_target.down(state)
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(TargetError) as raised:
            local_target.up(state)
    message = str(raised.value)
    assert f"port {port}" in message and "in use by process" in message
    assert str(os.getpid()) in message  # the squatter, named
    assert "runner local down --purge" in message
    assert local_target.status(state) is None
    # Once the port is free again, the target starts where it was.
    assert endpoints(local_target.up(state)) == endpoints(status)


def test_apply_resumes_after_the_local_target_restarts(state: Path, tmp_path: Path) -> None:
    """Killed after a task finished, then ``runner local down``: the queued tasks' resource
    files name Azurite's port of the first start, and the re-apply runs them."""
    env = target_env(state)
    keep = {"job": "never", "pool": "never", "containers": "never"}
    # Slow enough that tasks are still queued when the target stops.
    spec = batch_spec(
        tmp_path,
        "resume",
        "sleep 1; cat {{ file.name }} > {{ file.stem }}.out",
        files=3,
        teardown=keep,
    )
    args = [str(spec), "--workspace", "resume-ws", "--yes", "--output", "json"]
    apply = start_runner(env, tmp_path, "apply", *args)
    try:
        read_until(apply, polling)
        status = local_target.status(state)
        assert status is not None
        from runner.backends.target import local_target as target_of

        client = target_of(status).batch_client("local")
        wait_for(
            lambda: [t.state for t in client.list_tasks("resume-job")],
            lambda states: "completed" in {str(getattr(s, "value", s)) for s in states},
            "a task to complete",
        )
    finally:
        apply.kill()
        apply.communicate(timeout=60)
    local_target.down(state)  # what `runner local down` does

    again = runner(env, tmp_path, "apply", *args)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr
    counts = result_of(again.stdout)["counts"]
    assert counts["tasks_added"] == 0 and counts["succeeded"] == 3
    for i in range(3):
        assert (tmp_path / "out" / f"f{i}.out").read_text() == f"file {i}\n"
