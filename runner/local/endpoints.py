"""The local target's loopback ports: chosen on first start, kept in the state folder.

Azure's endpoints never move, and what the target hands out names them: SAS URLs in queued
Batch tasks, operation URLs, connection strings. So a restart of the same state folder
listens on the same ports again, and a port that something else took is an error that says
so, never a silent move.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
from pathlib import Path

from runner.local.layout import ENDPOINTS_FILE, ROLES

LISTEN_BACKLOG = 128


class PortTaken(RuntimeError):
    """A port the state folder keeps is in use by another process."""


def load_ports(state_dir: Path) -> dict[str, int]:
    """The ports of an earlier start of ``state_dir``, by role; empty on first start."""
    try:
        data = json.loads((state_dir / ENDPOINTS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k in ROLES and isinstance(v, int) and v > 0}


def save_ports(state_dir: Path, ports: dict[str, int]) -> None:
    path = state_dir / ENDPOINTS_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(ports, indent=2))
    tmp.replace(path)


def listen(host: str, port: int, role: str, state_dir: Path) -> socket.socket:
    """A listening socket on ``host:port`` (0: any free port), or ``PortTaken``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As every server does: a restart must not wait for the old connections' TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortTaken(taken_message(host, port, role, state_dir)) from None
        raise
    return sock


def check_free(host: str, port: int, role: str, state_dir: Path) -> None:
    """Raises ``PortTaken`` unless ``port`` can be listened on now (for a child to take)."""
    if port:
        listen(host, port, role, state_dir).close()


def taken_message(host: str, port: int, role: str, state_dir: Path) -> str:
    holder = port_holder(port)
    who = f"process {holder}" if holder else "another process"
    return (
        f"cannot start the local target: port {port} on {host}, its "
        f"{ROLES.get(role, role)}, is in use by {who}. The local target listens on the "
        f"same ports after every restart (kept in {state_dir / ENDPOINTS_FILE}), as Azure's "
        "endpoints never move: the Batch tasks and SAS URLs it handed out name them. Stop "
        "that process and run the command again, or run `runner local down --purge` to start "
        "afresh on new ports (this deletes everything the local target holds)."
    )


def port_holder(port: int) -> str | None:
    """``<pid> (<command>)`` of the process listening on ``port``, when /proc tells."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in wanted:
                        return f"{entry.name} ({_command(int(entry.name))})"
    return None


def _listening_inodes(port: int) -> set[str]:
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                found.add(inode)
    return found


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    text = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    return text if len(text) <= 120 else text[:117] + "..."
