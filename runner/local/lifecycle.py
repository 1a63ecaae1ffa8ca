"""Start, find and stop the local target's background process."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from runner.errors import TargetError
from runner.local import processes
from runner.local.control import health, set_faults, use_docker
from runner.local.endpoints import ROLES as ENDPOINT_ROLES
from runner.local.server import CHILDREN_FILE, START_ERROR_FILE, STATUS_FILE, write_json

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
    """Serialises up and down of one state folder (the emulator holds its own lock)."""
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
    A running target whose Docker engine does not answer moves to the one this process's
    ``DOCKER_HOST`` names.
    """
    folder = _resolve(state_dir)
    with _locked(folder):
        current, lock_fd = _running_or_lock(folder)
        if lock_fd is not None:
            return _spawn(folder, faults, lock_fd)
        assert current is not None
        if faults is not None:
            set_faults(current, _rules_of(faults))
        return _hand_docker_environment(folder, current)


def ensure_up(state_dir: Path | None = None) -> dict[str, Any]:
    return up(state_dir)


def _running_or_lock(folder: Path) -> tuple[dict[str, Any] | None, int | None]:
    """The running target of ``folder``, or the serve lock to start one with.

    An emulator holds the lock from its spawn to its exit: one still starting (its starter
    was interrupted) is waited for rather than joined by a second one."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        current = status(folder)
        if current is not None:
            return current, None
        fd = processes.try_lock(folder)
        if fd is not None:
            return None, fd
        if time.monotonic() > deadline:
            holder = processes.lock_holder(folder)
            raise TargetError(
                f"process {holder or '?'} holds the local target in {folder} but has not "
                f"answered for {START_TIMEOUT:.0f} s (see {folder / LOG_FILE}); stop it with "
                "`runner local down`, then run the command again"
            )
        time.sleep(0.1)


def _hand_docker_environment(folder: Path, current: dict[str, Any]) -> dict[str, Any]:
    from runner.local.context import docker_environment

    wanted = docker_environment()
    running = (current.get("docker") or {}).get("environment")
    if running is None or running == wanted:
        return current
    if use_docker(current, wanted):
        return status(folder) or current
    return current


def _spawn(folder: Path, faults: dict[str, Any] | None, lock_fd: int) -> dict[str, Any]:
    for name in (STATUS_FILE, START_ERROR_FILE):
        (folder / name).unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "runner.local",
        "serve",
        "--state-dir",
        str(folder),
        "--lock-fd",
        str(lock_fd),
    ]
    if faults is not None:
        write_json(folder / FAULTS_FILE, {"rules": _rules_of(faults)})
        command += ["--faults-file", str(folder / FAULTS_FILE)]
    log_path = folder / LOG_FILE
    proc: subprocess.Popen[bytes] | None = None
    try:
        with open(log_path, "ab") as log_file:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives the CLI call that started it
                close_fds=True,
                pass_fds=(lock_fd,),  # the child holds the lock from its first instant
            )
        processes.record_holder(lock_fd, proc.pid)
        return _wait_started(folder, proc, log_path)
    except BaseException:
        # Interrupted (Ctrl-C) or failed: nothing is left half started.
        if proc is not None:
            processes.stop(proc.pid)
        raise
    finally:
        os.close(lock_fd)


def _wait_started(folder: Path, proc: subprocess.Popen[bytes], log_path: Path) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            reason = _read_text(folder / START_ERROR_FILE)
            if reason:
                raise TargetError(reason)
            raise TargetError(
                f"the local target exited with code {code} while starting; "
                f"its log ({log_path}) ends with:\n{_tail(log_path)}"
            )
        current = status(folder)
        if current is not None and current["pid"] == proc.pid:
            return current
        time.sleep(0.1)
    raise TargetError(
        f"the local target did not start within {START_TIMEOUT:.0f} s; see {log_path}"
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def down(state_dir: Path | None = None, purge: bool = False) -> None:
    """Stops the local target and everything its state folder started: every emulator of
    the folder (one from an interrupted start included), Azurite, Docker containers;
    ``purge`` also deletes its state."""
    folder = _resolve(state_dir)
    if not folder.exists():
        return
    with _locked(folder):
        data = _read_json(folder / STATUS_FILE)
        recorded = data if isinstance(data, dict) else {}
        # Emulators first: each stops its own Azurite and containers on SIGTERM.
        for pid in _emulators(folder, recorded):
            processes.stop(pid, STOP_TIMEOUT)
        for pid in _azurites(folder):
            processes.stop(pid, STOP_TIMEOUT)
        for name in (STATUS_FILE, CHILDREN_FILE):
            (folder / name).unlink(missing_ok=True)
        _remove_containers(folder, recorded)
    if purge:
        shutil.rmtree(folder, ignore_errors=True)


def _emulators(folder: Path, recorded: dict[str, Any]) -> list[int]:
    found = set(processes.emulators_of(folder))
    for pid in (recorded.get("pid"), processes.lock_holder(folder)):
        if isinstance(pid, int) and _is_emulator(pid):
            found.add(pid)
    return sorted(found)


def _is_emulator(pid: int) -> bool:
    """Whether ``pid`` (read from a file of the folder) is still an emulator, not a
    process that reuses the number."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"runner.local" in args and b"serve" in args and processes.alive(pid)


def _azurites(folder: Path) -> list[int]:
    found = set(processes.azurites_of(folder))
    children = _read_json(folder / CHILDREN_FILE)
    candidates = list(children.values()) if isinstance(children, dict) else []
    candidates.append(_read_pid(folder / "azurite" / "azurite.pid"))
    for pid in candidates:
        if isinstance(pid, int) and _is_azurite(pid):
            found.add(pid)
    return sorted(found)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _is_azurite(pid: int) -> bool:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"azurite" in args and processes.alive(pid)


def _alive(pid: int) -> bool:
    return processes.alive(pid)


def _remove_containers(folder: Path, recorded: dict[str, Any]) -> None:
    """Removes Docker containers left by a target that did not stop cleanly, from the
    engine it used and from this process's."""
    from runner.local.containers import remove_owned_containers
    from runner.local.context import docker_environment
    from runner.local.settings import SETTINGS_FILE

    settings = _read_json(folder / SETTINGS_FILE)
    if not (isinstance(settings, dict) and settings.get("instance_id")):
        return
    engines = [docker_environment()]
    used = (recorded.get("docker") or {}).get("environment")
    if isinstance(used, dict) and used not in engines:
        engines.insert(0, used)
    for environment in engines:
        remove_owned_containers(settings["instance_id"], environment)


def unreachable(status: dict[str, Any], url: str) -> str | None:
    """Why nothing answers at ``url``, one of the endpoints of the target ``status``
    describes, when that is because the target is not running: its emulator (for ARM and
    Batch) or its Azurite (for Blob). None when they run, or ``url`` is not the target's:
    a failed connection is then not explained by the target being down."""
    role = _role_of(status, url)
    if role is None:
        return None
    folder = status.get("state_dir")
    current = _read_json(Path(folder) / STATUS_FILE) if folder else status
    where = f"state folder {folder}" if folder else "its state folder"
    head = f"nothing listens at {_origin(url)}, the local target's {ENDPOINT_ROLES[role]}"
    again = (
        "Run the command again: it starts the local target (or start it with `runner local "
        "up`), and what was done so far is kept."
    )
    if not isinstance(current, dict) or not isinstance(current.get("pid"), int):
        return f"{head}: the local target ({where}) is not running. {again}"
    pid = current["pid"]
    if not processes.alive(pid):
        return f"{head}: its emulator (pid {pid}, {where}) is not running. {again}"
    storage = current.get("storage") or {}
    azurite = storage.get("pid")
    if role == "blob" and not (isinstance(azurite, int) and processes.alive(azurite)):
        return (
            f"{head}: its Azurite (pid {azurite or '?'}) is not running, while its emulator "
            f"(pid {pid}, {where}) is. Restart the local target with `runner local down`, "
            "then run the command again; what was done so far is kept."
        )
    return None


def _role_of(status: dict[str, Any], url: str) -> str | None:
    endpoints = {
        "arm": (status.get("arm") or {}).get("endpoint"),
        "batch": (status.get("batch") or {}).get("url"),
        "blob": (status.get("storage") or {}).get("blob_endpoint"),
    }
    origin = _origin(url)
    return next((role for role, e in endpoints.items() if e and _origin(e) == origin), None)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}"
