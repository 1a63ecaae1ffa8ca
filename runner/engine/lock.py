"""One apply (or destroy) per workspace at a time.

The lock file lives under ``<workspace root>/.runner/`` and holds the holder's pid, host
and command. It is held with ``flock``, which the kernel releases when the holder dies, so
a lock left by a dead process is simply taken over; a live holder makes a second apply
fail at once with a ``LockError`` naming it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from runner.engine.workspace import workspace_root
from runner.errors import LockError

# Locks held in this process by a nestable holder, by lock file, with how many holders
# share it; any other second holder, in this process or another, is refused.
_NESTABLE: dict[Path, int] = {}
_HELD_GUARD = threading.Lock()


def lock_path(workspace: str, root: Path | None = None) -> Path:
    return (root or workspace_root()) / ".runner" / f"{workspace}.lock"


class WorkspaceLock:
    def __init__(
        self,
        workspace: str,
        *,
        command: str | None = None,
        root: Path | None = None,
        nestable: bool = False,
    ):
        self.workspace = workspace
        self.path = lock_path(workspace, root)
        self.command = command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
        self._fd: int | None = None
        self.nestable = nestable
        self._joined = False

    def holder(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text() or "null")
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def acquire(self) -> None:
        with _HELD_GUARD:
            key = self.path.absolute()
            if key in _NESTABLE:
                # Held in this process by a nestable holder (``runner apply`` holds it from
                # the plan to the end; the engine's apply takes it again): join it.
                _NESTABLE[key] += 1
                self._joined = True
                return
        self._acquire_file()
        if self.nestable:
            with _HELD_GUARD:
                _NESTABLE[self.path.absolute()] = 1

    def _acquire_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockError(self._held_message()) from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": self.command,
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        with _HELD_GUARD:
            key = self.path.absolute()
            if self._joined:
                _NESTABLE[key] -= 1
                self._joined = False
                return
            if self.nestable:
                _NESTABLE.pop(key, None)
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def _held_message(self) -> str:
        h = self.holder() or {}
        who = f"pid {h.get('pid', '?')} on {h.get('host', '?')}"
        what = f" running `{h['command']}`" if h.get("command") else ""
        since = f" since {h['since']}" if h.get("since") else ""
        return (
            f"workspace {self.workspace!r} is locked by {who}{what}{since} ({self.path}); "
            "wait for it to finish"
        )

    def __enter__(self) -> WorkspaceLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
