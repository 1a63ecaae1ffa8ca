"""Start, find and stop the local target's background process."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runner.errors import TargetError
from runner.local.control import health, set_faults
from runner.local.server import CHILDREN_FILE, STATUS_FILE, write_json

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
LOG_FILE = "server.log"
FAULTS_FILE = "faults.json"


def default_state_dir() -> Path:
    """``$RUNNER_LOCAL_DIR``, else ``.runner/local`` under the git work tree (or cwd)."""
    env = os.environ.get("RUNNER_LOCAL_DIR")
    if env:
        return Path(env).resolve()
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / ".git").exists():
            return folder / ".runner" / "local"
    return cwd / ".runner" / "local"


def _resolve(state_dir: Path | None) -> Path:
    return Path(state_dir).resolve() if state_dir is not None else default_state_dir()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status(state_dir: Path | None = None) -> dict[str, Any] | None:
    """The running target's status dict, or None when it is not running."""
    data = _read_json(_resolve(state_dir) / STATUS_FILE)
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return None
    if not _alive(data["pid"]) or health(data) is None:
        return None
    return data


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "lifecycle.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _rules_of(faults: Any) -> list[dict[str, Any]]:
    if isinstance(faults, dict):
        return list(faults.get("rules", []))
    return list(faults or [])


def up(state_dir: Path | None = None, faults: dict[str, Any] | None = None) -> dict[str, Any]:
    """Starts the local target unless it runs already; returns its status dict.

    ``faults`` (``{"rules": [...]}``) replaces the fault rules, also of a running target.
    """
    folder = _resolve(state_dir)
    with _locked(folder):
        current = status(folder)
        if current is not None:
            if faults is not None:
                set_faults(current, _rules_of(faults))
            return current
        return _spawn(folder, faults)


def ensure_up(state_dir: Path | None = None) -> dict[str, Any]:
    return up(state_dir)


def _spawn(folder: Path, faults: dict[str, Any] | None) -> dict[str, Any]:
    (folder / STATUS_FILE).unlink(missing_ok=True)
    command = [sys.executable, "-m", "runner.local", "serve", "--state-dir", str(folder)]
    if faults is not None:
        write_json(folder / FAULTS_FILE, {"rules": _rules_of(faults)})
        command += ["--faults-file", str(folder / FAULTS_FILE)]
    log_path = folder / LOG_FILE
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the CLI call that started it
            close_fds=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            raise TargetError(
                f"the local target exited with code {code} while starting; "
                f"its log ({log_path}) ends with:\n{_tail(log_path)}"
            )
        current = status(folder)
        if current is not None and current["pid"] == proc.pid:
            return current
        time.sleep(0.1)
    proc.terminate()
    raise TargetError(
        f"the local target did not start within {START_TIMEOUT:.0f} s; see {log_path}"
    )


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def down(state_dir: Path | None = None, purge: bool = False) -> None:
    """Stops the local target and what it started; ``purge`` also deletes its state."""
    folder = _resolve(state_dir)
    if not folder.exists():
        return
    with _locked(folder):
        data = _read_json(folder / STATUS_FILE)
        pid = data.get("pid") if isinstance(data, dict) else None
        if isinstance(pid, int) and _alive(pid):
            _stop_process(pid)
        children = _read_json(folder / CHILDREN_FILE) or {}
        for child in children.values():
            if isinstance(child, int) and _alive(child):
                _stop_process(child)
        (folder / STATUS_FILE).unlink(missing_ok=True)
        (folder / CHILDREN_FILE).unlink(missing_ok=True)
        _remove_containers(folder)
    if purge:
        shutil.rmtree(folder, ignore_errors=True)


def _stop_process(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and _alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _remove_containers(folder: Path) -> None:
    """Removes Docker containers left by a target that did not stop cleanly."""
    from runner.local.containers import remove_owned_containers
    from runner.local.settings import SETTINGS_FILE

    settings = _read_json(folder / SETTINGS_FILE)
    if isinstance(settings, dict) and settings.get("instance_id"):
        remove_owned_containers(settings["instance_id"])
