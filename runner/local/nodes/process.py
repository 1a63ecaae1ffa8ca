"""Task processes: ``/bin/sh -c`` of the command line, output to ``stdout.txt``/``stderr.txt``.

Each process leads its own session so a timeout, a job termination or a pool deletion can
stop everything the command started (``killpg``), not just the shell.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from runner.local.nodes import container_run
from runner.local.nodes.attempt import Running

# An exit code for a process killed by a signal, as a shell reports it (128 + signal).
SIGNAL_BASE = 128


@dataclass(eq=False)
class ProcessRunning(Running):
    """A task process: ``/bin/sh -c`` of its command line, in a session of its own."""

    process: subprocess.Popen[bytes]

    def __post_init__(self) -> None:
        super().__init__()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def identity(self) -> str | None:
        return identity(self.process.pid)


def start(command: str, cwd: Path, env: dict[str, str], folder: Path) -> ProcessRunning:
    cwd.mkdir(parents=True, exist_ok=True)
    with (folder / "stdout.txt").open("ab") as out, (folder / "stderr.txt").open("ab") as err:
        process = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    return ProcessRunning(process)


def wait(running: ProcessRunning, timeout: float | None) -> tuple[int, bool]:
    """Waits for the process; returns its exit code and whether ``timeout`` expired."""
    try:
        code = running.process.wait(timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        running.stop("timeout")
        code = running.process.wait()
        timed_out = True
    # Reap anything the command left running in its session.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(running.process.pid, signal.SIGKILL)
    if code < 0:
        code = SIGNAL_BASE - code
    return code, timed_out


def identity(pid: int) -> str | None:
    """``<pid>:<start time>`` from /proc, stable for the life of one process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (start time) counts from the fields after the parenthesised command name.
    fields = stat.rsplit(")", 1)[-1].split()
    return f"{pid}:{fields[19]}" if len(fields) > 19 else None


def kill_leftover(ident: str | None) -> None:
    """Kills the session of a process recorded by ``identity`` if that same process lives.

    A task of an emulator that was killed outlives it; its restart stops it before the task
    runs again, and never touches a process that merely reuses the pid.
    """
    if not ident:
        return
    if ident.startswith(container_run.IDENTITY_PREFIX):
        container_run.remove_leftover(ident)
        return
    pid = int(ident.split(":", 1)[0])
    if identity(pid) == ident:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
