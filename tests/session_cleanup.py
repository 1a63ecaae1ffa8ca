"""A test run ended by SIGTERM (a CI time limit) or SIGHUP (its terminal closed) stops what
it started, as it does after Ctrl-C.

The local target and its Azurite run in sessions of their own (they outlive the command
that starts them), so a signal that kills pytest never reaches them: only the session
fixtures' finalizers stop them. Such a signal therefore becomes a ``KeyboardInterrupt``,
which pytest answers by tearing the session down. As a backstop, for a target whose start
was cut short before its fixture could stop it, the end of the session stops every process
whose command line names a path under the session's base temporary folder: fixtures keep
the state of each target they start there, so nothing else of this machine is touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

HANDLED = (signal.SIGTERM, signal.SIGHUP)
STOP_TIMEOUT = 10.0


class Terminated(KeyboardInterrupt):
    """The run was asked to stop by a signal: pytest tears the session down as after Ctrl-C."""


@dataclass
class _SignalState:
    received: int | None = None
    raised: bool = False
    deferring: int = 0
    previous: dict[int, Any] = field(default_factory=dict)


_Signals = _SignalState()


def _raise_received() -> None:
    assert _Signals.received is not None
    _Signals.raised = True
    name = signal.Signals(_Signals.received).name
    raise Terminated(f"{name} received: stopping what the test run started")


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if _Signals.received is not None:
        return  # the teardown is under way: a second signal must not cut it short
    _Signals.received = signum
    if _Signals.deferring == 0:
        _raise_received()


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """A SIGTERM or SIGHUP arriving inside takes effect at the end of the block.

    For starting a service: interrupted half-way, it would run on with no finalizer to
    stop it. Once started, the caller's finalizer is in place when the signal takes effect.
    """
    _Signals.deferring += 1
    try:
        yield
    finally:
        _Signals.deferring -= 1
    if _Signals.deferring == 0 and _Signals.received is not None and not _Signals.raised:
        _raise_received()


def pytest_configure(config: pytest.Config) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in HANDLED:
        # A handler someone else set, or SIG_IGN (nohup), is theirs to keep.
        if signal.getsignal(signum) is signal.SIG_DFL:
            _Signals.previous[signum] = signal.SIG_DFL
            signal.signal(signum, _on_signal)


def pytest_unconfigure(config: pytest.Config) -> None:
    for signum, previous in _Signals.previous.items():
        signal.signal(signum, previous)
    _Signals.previous.clear()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """After the session fixtures' finalizers: stops what they did not."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    basetemp = getattr(factory, "_basetemp", None)
    if basetemp is None:
        return  # no temporary folder was made, so no fixture started a target in one
    stopped = stop_leftovers(Path(basetemp))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if stopped and reporter is not None:
        reporter.write_line(f"stopped {len(stopped)} processes the test run left running:")
        for line in stopped:
            reporter.write_line(f"  {line}")


def stop_leftovers(root: Path) -> list[str]:
    """Stops the processes whose command line names a path under ``root``; describes them.

    Local targets found serving a state folder there are stopped the target's own way first
    (its Azurite and containers with it); whatever still runs then is terminated.
    """
    found = processes_naming(root)
    if not found:
        return []
    from runner.backends import local_target

    for argv in found.values():
        state = _state_dir(argv)
        if state is not None:
            with contextlib.suppress(Exception):  # a backstop must not end the run itself
                local_target.down(Path(state))
    _terminate(list(processes_naming(root)))
    return [f"{pid}: {' '.join(argv)[:200]}" for pid, argv in sorted(found.items())]


def processes_naming(root: Path) -> dict[int, list[str]]:
    """This user's processes (but this one and its ancestors) that name a path under ``root``."""
    proc = Path("/proc")
    if not proc.is_dir():
        return {}
    prefix = str(root.resolve()).rstrip(os.sep) + os.sep
    exclude = _ancestors()
    found: dict[int, list[str]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) in exclude:
            continue
        try:
            if entry.stat().st_uid != os.getuid():
                continue
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # it ended while being looked at
        argv = [os.fsdecode(part) for part in raw.split(b"\0") if part]
        if any(prefix in arg or arg + os.sep == prefix for arg in argv):
            found[int(entry.name)] = argv
    return found


def _state_dir(argv: list[str]) -> str | None:
    if "runner.local" not in argv or "serve" not in argv or "--state-dir" not in argv:
        return None
    index = argv.index("--state-dir") + 1
    return argv[index] if index < len(argv) else None


def _ancestors() -> set[int]:
    pids = {os.getpid()}
    pid = os.getppid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        # The command name (field 2) may hold spaces: fields after its ")" are fixed.
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return pids


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _terminate(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # a child of this process is reaped here
        if not any(running(pid) for pid in pids):
            return
        time.sleep(0.05)
    for pid in pids:
        if running(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
