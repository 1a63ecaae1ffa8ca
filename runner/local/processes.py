"""The processes a state folder runs, and the lock that lets only one emulator serve it.

The emulator holds ``serve.lock`` (``flock``) for as long as it lives; its client
(``runner.backends.local_target.up``) takes it before spawning and hands it to the child, so
there is no moment at which a second start could slip in. Processes are found again by their
command lines, which name the state folder, so that ``down`` also stops what an interrupted
start left without a pid file. Standard library only: the client imports this module (see
``runner.local.layout``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import time
from pathlib import Path

SERVE_LOCK = "serve.lock"
STOP_TIMEOUT = 20.0


def try_lock(state_dir: Path) -> int | None:
    """An fd holding the serve lock of ``state_dir``, or None when a process holds it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / SERVE_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def record_holder(fd: int, pid: int) -> None:
    """Writes the pid of the lock's holder into the lock file, for messages and ``down``."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{pid}\n".encode(), 0)


def lock_holder(state_dir: Path) -> int | None:
    """The pid written by the serve lock's last holder (who may have died since)."""
    try:
        return int((state_dir / SERVE_LOCK).read_text().strip())
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (dead, not yet reaped) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return _signalable(pid)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _signalable(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(pid: int, timeout: float = STOP_TIMEOUT) -> bool:
    """SIGTERM, then SIGKILL once ``timeout`` has passed; False when it took SIGKILL (the
    process had no chance to clean up after itself)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    killed = alive(pid)
    if killed:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return not killed


def emulators_of(state_dir: Path) -> list[int]:
    """Pids of ``python -m runner.local serve --state-dir <state_dir>`` processes."""
    folder = str(state_dir.resolve())
    return [
        pid
        for pid, args in _command_lines()
        if "runner.local" in args and "serve" in args and _value(args, "--state-dir") == folder
    ]


def azurites_of(state_dir: Path) -> list[int]:
    """Pids of Azurite processes keeping their data in ``state_dir``."""
    location = str(state_dir.resolve() / "azurite")
    return [
        pid
        for pid, args in _command_lines()
        if any("azurite" in a for a in args[:2]) and _value(args, "--location") == location
    ]


def _value(args: list[str], flag: str) -> str | None:
    with contextlib.suppress(ValueError, IndexError):
        return args[args.index(flag) + 1]
    return None


def _command_lines() -> list[tuple[int, list[str]]]:
    found = []
    own = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        raw = _cmdline(entry)
        if raw is None:
            continue
        args = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
        if args and alive(int(entry.name)):
            found.append((int(entry.name), args))
    return found


# A process still in exec shows an empty command line for a moment; one just spawned (an
# interrupted start's emulator) would be missed by a single read. Kernel threads (kthreadd,
# pid 2, and its children) and zombies show an empty one for ever.
_EXEC_READS = 40
_EXEC_PAUSE = 0.005


def _cmdline(entry: Path) -> bytes | None:
    for _ in range(_EXEC_READS):
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            return None
        if raw or _stays_empty(entry):
            return raw
        time.sleep(_EXEC_PAUSE)
    return b""


def _stays_empty(entry: Path) -> bool:
    try:
        state, parent = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[:2]
    except (OSError, ValueError):
        return True
    return state == "Z" or entry.name == "2" or parent == "2"
