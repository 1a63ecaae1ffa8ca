"""A test run stopped by SIGTERM or SIGHUP stops the local target and Azurite it started.

The target runs in a session of its own, so a signal that ends pytest does not reach it:
tests/session_cleanup.py turns the signal into the teardown Ctrl-C gets.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runner_cli import default_signals
from session_cleanup import processes_naming, running, stop_leftovers

ROOT = Path(__file__).resolve().parents[2]
WAITER = Path(__file__).with_name("waits_with_target.py")
START_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if path.exists():
            return dict(json.loads(path.read_text()))
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"the inner pytest ended ({proc.returncode}) early:\n{out}")
        time.sleep(0.1)
    pytest.fail(f"the target did not come up within {START_TIMEOUT:.0f} s")


def _require_azurite() -> None:
    from runner.local.azurite import AzuriteError, find_azurite

    try:
        find_azurite(install=False)
    except AzuriteError as exc:
        if os.environ.get("RUNNER_REQUIRE_SERVICES") == "1":
            pytest.fail(f"required service missing: {exc}", pytrace=False)
        pytest.skip(str(exc))


def _inner_pytest(tmp_path: Path, test: str) -> tuple[subprocess.Popen[str], Path]:
    """pytest on one test of the waiting module; its ready file, written once it waits."""
    ready = tmp_path / "ready.json"
    env = dict(os.environ, RUNNER_SIGNAL_TEST_READY=str(ready), RUNNER_LOCAL_RUNTIME="instant")
    env.pop("RUNNER_LOCAL_DIR", None)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--basetemp", str(tmp_path / "inner"), f"{WAITER}::{test}"]  # fmt: skip
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, preexec_fn=default_signals,
    )  # fmt: skip
    return proc, ready


def _stop(proc: subprocess.Popen[str], signum: signal.Signals) -> str:
    """Sends ``signum`` and waits for pytest to end; its output."""
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=STOP_TIMEOUT)
    return out


def _assert_orderly_end(proc: subprocess.Popen[str], signum: signal.Signals, out: str) -> None:
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, (
        f"pytest did not end in an orderly way after {signum.name} ({proc.returncode}):\n{out}"
    )
    assert signum.name in out, out


@pytest.mark.integration
def test_a_sigterm_leaves_no_target_or_azurite_running(tmp_path: Path) -> None:
    _require_azurite()
    proc, ready = _inner_pytest(tmp_path, "test_waits_with_the_target_up")
    try:
        record = _wait_for(ready, proc)
        state = Path(str(record["state"]))
        assert record["storage"], "the target came up without Azurite"
        before = processes_naming(state)
        for kind, word in {"target": "runner.local", "azurite": "azurite"}.items():
            assert any(word in " ".join(argv) for argv in before.values()), (
                f"no {kind} process runs for {state} before the signal: {before}"
            )

        out = _stop(proc, signal.SIGTERM)

        assert not [pid for pid in before if running(pid)], (
            f"still running for {state} after SIGTERM: {processes_naming(state)}\n{out}"
        )
        assert processes_naming(state) == {}
        _assert_orderly_end(proc, signal.SIGTERM, out)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stop_leftovers(tmp_path)


def test_a_sighup_runs_the_session_finalizers(tmp_path: Path) -> None:
    proc, ready = _inner_pytest(tmp_path, "test_waits_with_a_session_fixture")
    try:
        marker = Path(str(_wait_for(ready, proc)["marker"]))
        assert not marker.exists()

        out = _stop(proc, signal.SIGHUP)

        assert marker.exists(), f"the session fixture was not torn down after SIGHUP:\n{out}"
        _assert_orderly_end(proc, signal.SIGHUP, out)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _sleeper(*names: Path) -> subprocess.Popen[bytes]:
    code = "import time; time.sleep(60)"
    return subprocess.Popen([sys.executable, "-c", code, *map(str, names)])


def test_the_backstop_stops_only_processes_naming_the_run_folder(tmp_path: Path) -> None:
    run_folder, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    left = _sleeper(run_folder / "state" / "azurite")
    other = _sleeper(elsewhere / "state")
    try:
        stopped = stop_leftovers(run_folder)

        left.wait(timeout=5)
        assert [line.split(":")[0] for line in stopped] == [str(left.pid)]
        assert other.poll() is None, "a process naming another folder was stopped"
    finally:
        for proc in (left, other):
            proc.kill()
            proc.wait()


def test_a_signal_during_a_start_takes_effect_when_the_start_ends() -> None:
    code = (
        "import os, signal, session_cleanup as s\n"
        "s.pytest_configure(None)\n"
        "try:\n"
        "    with s.signals_deferred():\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        print('start finished', flush=True)\n"
        "    print('not reached', flush=True)\n"
        "except s.Terminated as exc:\n"
        "    print('terminated:', exc, flush=True)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tests"))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.stdout.splitlines() == [
        "start finished",
        "terminated: SIGTERM received: stopping what the test run started",
    ], done.stdout + done.stderr
