"""The local target's client: start, find and stop its background process, and the admin
API of a running one (health, faults, counters, model speeds, Docker engine).

The server (``runner.local``) runs in a process of its own, ``python -m runner.local
serve``; this module talks to it through its state folder, its admin API over HTTPS and
short ``python -m runner.local`` commands, so that the CLI loads none of the server's web,
TLS or Docker libraries. Of ``runner.local`` it imports only ``layout`` (the state folder's
file names) and ``processes`` (the serve lock, finding its processes), both standard
library only; ``pyproject.toml``'s import-linter contracts keep it so.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from runner.errors import TargetError
from runner.local import processes
from runner.local.layout import (
    CHILDREN_FILE,
    FAULTS_FILE,
    LOG_FILE,
    ROLES,
    SETTINGS_FILE,
    START_ERROR_FILE,
    STATUS_FILE,
    docker_environment,
    read_json,
    write_json,
)

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
ADMIN_TIMEOUT = 10.0
# A command of the server package run for the client; it imports Flask or Docker itself.
HELPER_TIMEOUT = 120.0

# --- lifecycle --------------------------------------------------------------------


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


def status(state_dir: Path | None = None) -> dict[str, Any] | None:
    """The running target's status dict, or None when it is not running."""
    data = read_json(_resolve(state_dir) / STATUS_FILE)
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return None
    if not processes.alive(data["pid"]) or health(data) is None:
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
        data = read_json(folder / STATUS_FILE)
        recorded = data if isinstance(data, dict) else {}
        # Emulators first: each stops its own Azurite and containers on SIGTERM, and
        # removes its status file before it does.
        stopped = [processes.stop(pid, STOP_TIMEOUT) for pid in _emulators(folder, recorded)]
        for pid in _azurites(folder):
            processes.stop(pid, STOP_TIMEOUT)
        # The sweep costs a process that loads Docker: only where an emulator may have left
        # containers, because it died, or ran on another engine than this process names.
        crashed = (folder / STATUS_FILE).exists() or not all(stopped)
        used = (recorded.get("docker") or {}).get("environment")
        elsewhere = isinstance(used, dict) and used != docker_environment()
        for name in (STATUS_FILE, CHILDREN_FILE):
            (folder / name).unlink(missing_ok=True)
        if crashed or elsewhere:
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
    children = read_json(folder / CHILDREN_FILE)
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


def _remove_containers(folder: Path, recorded: dict[str, Any]) -> None:
    """Removes Docker containers left by a target that did not stop cleanly, from the
    engine it used and from this process's: a command of the server package does, as
    it is the one that speaks Docker."""
    settings = read_json(folder / SETTINGS_FILE)
    if not (isinstance(settings, dict) and settings.get("instance_id")):
        return
    engines = [docker_environment()]
    used = (recorded.get("docker") or {}).get("environment")
    if isinstance(used, dict) and used not in engines:
        engines.insert(0, used)
    command = ["remove-containers", "--instance", str(settings["instance_id"])]
    for environment in engines:
        command += ["--engine", json.dumps(environment)]
    _server_command(command)


def _server_command(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runner.local", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=HELPER_TIMEOUT,
        check=False,
    )


def fault_rules(texts: tuple[str, ...] = (), file: Path | None = None) -> list[dict[str, Any]]:
    """Fault rules from ``--fault`` texts (``key=value,...``) and a JSON rules file, checked
    by the server's own parser; ``ValueError`` says what is wrong with them."""
    args = ["fault-rules"]
    for text in texts:
        args += ["--fault", text]
    if file is not None:
        args += ["--faults-file", str(file)]
    done = _server_command(args)
    if done.returncode != 0:
        raise ValueError(done.stderr.strip() or f"fault rules refused (exit {done.returncode})")
    rules: list[dict[str, Any]] = json.loads(done.stdout)
    return rules


def unreachable(status: Mapping[str, Any], url: str) -> str | None:
    """Why nothing answers at ``url``, one of the endpoints of the target ``status``
    describes, when that is because the target is not running: its emulator (for ARM and
    Batch) or its Azurite (for Blob). None when they run, or ``url`` is not the target's:
    a failed connection is then not explained by the target being down."""
    role = _role_of(status, url)
    if role is None:
        return None
    folder = status.get("state_dir")
    current = read_json(Path(folder) / STATUS_FILE) if folder else status
    where = f"state folder {folder}" if folder else "its state folder"
    head = f"nothing listens at {_origin(url)}, the local target's {ROLES[role]}"
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


def _role_of(status: Mapping[str, Any], url: str) -> str | None:
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


# --- admin API of a running target ------------------------------------------------


def _call(status: Mapping[str, Any], method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        status["control"].rstrip("/") + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} if data is not None else {},
    )
    context = ssl.create_default_context(cafile=status["ca_bundle"])
    with urllib.request.urlopen(req, context=context, timeout=ADMIN_TIMEOUT) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def health(status: Mapping[str, Any], timeout: float = 2.0) -> dict[str, Any] | None:
    """The admin health answer, or None when nothing (or something else) answers."""
    try:
        req = urllib.request.Request(status["control"].rstrip("/") + "/health")
        context = ssl.create_default_context(cafile=status["ca_bundle"])
        with urllib.request.urlopen(req, context=context, timeout=timeout) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
    except (OSError, ValueError, KeyError):
        return None
    return answer if answer.get("pid") == status.get("pid") else None


def use_docker(status: Mapping[str, Any], environment: dict[str, str]) -> bool:
    """Hands the caller's Docker variables to the target; True when it uses that engine now
    (it moves only while its own engine does not answer)."""
    answer: dict[str, Any] = _call(status, "PUT", "/docker", {"environment": environment})
    return bool(answer["in_use"])


def set_faults(status: Mapping[str, Any], rules: list[dict[str, Any]]) -> None:
    """Replaces the fault rules (see ``runner.local.faults.FaultRule`` for the fields)."""
    _call(status, "PUT", "/faults", {"rules": rules})


def get_faults(status: Mapping[str, Any]) -> list[dict[str, Any]]:
    answer: dict[str, Any] = _call(status, "GET", "/faults")
    return list(answer["rules"])


def clear_faults(status: Mapping[str, Any]) -> None:
    _call(status, "DELETE", "/faults")


def counters(status: Mapping[str, Any]) -> dict[str, int]:
    """Requests seen per ``"METHOD route-template"`` since the start or the last reset."""
    return dict(_call(status, "GET", "/counters"))


def reset_counters(status: Mapping[str, Any]) -> None:
    _call(status, "DELETE", "/counters")


def set_transitions(status: Mapping[str, Any], progressions: dict[str, dict[str, Any]]) -> None:
    """Sets how fast models advance: ``{"aci.provisioning": {"mode": "seconds", "value": 1}}``;
    an empty dict goes back to ``immediate`` everywhere."""
    _call(status, "PUT", "/transitions", progressions)
