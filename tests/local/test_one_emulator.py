"""One emulator per state folder, always: a start interrupted in its first second and run
again does not make a second one, the emulator refuses a folder another one serves, and
``down`` stops everything the folder started, also what an interrupted start left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from runner_cli import runner, start_runner
from target_helpers import alive, azurites, emulators, target_env
from waiting import wait_for

from runner.backends import local_target

pytestmark = pytest.mark.integration


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("RUNNER_LOCAL_RUNTIME", "instant")
    folder = tmp_path / "target"
    yield folder
    local_target.down(folder, purge=True)
    for pid in emulators(folder) + azurites(folder):  # whatever a failure left
        os.kill(pid, signal.SIGKILL)


def serve(state: Path) -> subprocess.Popen[bytes]:
    """The emulator started by hand, as ``local_target.up`` spawns it."""
    return subprocess.Popen(
        [sys.executable, "-m", "runner.local", "serve", "--state-dir", str(state)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def lock_holder(state: Path) -> int | None:
    try:
        return int((state / "serve.lock").read_text())
    except (OSError, ValueError):
        return None


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_an_interrupted_up_run_again_leaves_one_emulator(
    state: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    up = start_runner(target_env(state), tmp_path, "local", "up")
    spawned = wait_for(lambda: emulators(state), bool, "the emulator to be spawned")
    up.send_signal(sig)
    up.communicate(timeout=60)

    status = local_target.up(state)  # at once: the first emulator is still starting
    assert emulators(state) == [status["pid"]]
    assert len(azurites(state)) == 1
    if sig == signal.SIGINT:  # the interrupted start stopped what it had spawned
        assert status["pid"] not in spawned
    down = runner(target_env(state), tmp_path, "local", "down", "--purge")
    assert down.returncode == 0, down.stderr
    assert emulators(state) == [] and azurites(state) == []


def test_the_emulator_refuses_a_state_folder_another_one_serves(state: Path) -> None:
    status = local_target.up(state)
    second = serve(state)
    _, err = second.communicate(timeout=30)
    assert second.returncode == 3
    assert f"process {status['pid']} already serves the local target in" in err.decode()
    assert emulators(state) == [status["pid"]]
    assert local_target.status(state) == status


def test_up_waits_for_an_emulator_that_is_still_starting(state: Path) -> None:
    starting = serve(state)
    wait_for(
        lambda: lock_holder(state),
        lambda pid: pid == starting.pid,
        "the emulator to hold its folder",
    )
    try:
        status = local_target.up(state)
        assert status["pid"] == starting.pid
        assert emulators(state) == [starting.pid]
    finally:
        local_target.down(state)
        starting.communicate(timeout=30)


def test_down_stops_what_an_interrupted_start_left(state: Path) -> None:
    # An emulator whose starter died before it wrote anything down, next to an Azurite
    # whose emulator was killed before it recorded it.
    status = local_target.up(state)
    azurite = azurites(state)
    os.kill(status["pid"], signal.SIGKILL)
    wait_for(lambda: alive(status["pid"]), lambda a: not a, "the emulator to die")
    for name in ("status.json", "children.json", "azurite/azurite.pid"):
        (state / name).unlink()
    starting = serve(state)

    local_target.down(state, purge=True)
    starting.communicate(timeout=30)
    assert emulators(state) == []
    assert azurites(state) == []
    assert not any(alive(pid) for pid in azurite)
    assert not state.exists()
