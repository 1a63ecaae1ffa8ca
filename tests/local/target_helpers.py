"""Helpers for tests that start, kill and restart a local target of their own: the CLI in a
subprocess aimed at one state folder, small specs, and the processes a folder runs."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def target_env(state: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI call aimed at the local target in ``state``."""
    return {
        **os.environ,
        "RUNNER_LOCAL_DIR": str(state),
        "RUNNER_TARGET": "local",
        "COLUMNS": "200",
        **extra,
    }


def read_until(proc: subprocess.Popen[str], wanted: Callable[[str], bool]) -> str:
    """Reads ``proc``'s stdout until a line ``wanted`` accepts; fails if it ends first."""
    seen: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if wanted(line):
            return "".join(seen)
    out, err = proc.communicate(timeout=60)
    pytest.fail("the command ended first:\n" + "".join(seen) + out + err)


def polling(line: str) -> bool:
    return '"step": "poll"' in line and '"StepStarted"' in line


def batch_spec(
    folder: Path,
    name: str,
    command: str,
    files: int,
    teardown: dict[str, str] | None = None,
    slots: int = 1,
) -> Path:
    """A Batch job of one task per input file ``in/f<i>.txt``; each task's
    ``<stem>.out`` is collected into ``out/``."""
    inputs = folder / "in"
    inputs.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        (inputs / f"f{i}.txt").write_text(f"file {i}\n")
    spec = {
        "kind": "BatchJob",
        "name": name,
        "pool": {"id": f"{name}-pool", "nodes": 1, "taskSlotsPerNode": slots},
        "job": {"id": f"{name}-job"},
        "tasks": {
            "forEachFile": "in/*.txt",
            "id": "t-{{ file.stem }}",
            "command": command,
            "outputs": ["{{ file.stem }}.out"],
        },
        "timeout": "10m",
        "collect": {"dir": "out"},
        "teardown": teardown or {"job": "always", "pool": "always", "containers": "onSuccess"},
    }
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(spec))  # JSON is YAML
    return path


def group_spec(folder: Path, name: str, image: str) -> Path:
    """One long-running container in resource group ``<name>-rg``."""
    spec = {
        "kind": "ContainerGroup",
        "name": name,
        "resourceGroup": f"{name}-rg",
        "restartPolicy": "Always",
        "containers": [
            {
                "name": "app",
                "image": image,
                "cpu": 1,
                "memoryInGB": 0.5,
                # The shell traps TERM so that a stop is immediate.
                "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"],
            }
        ],
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(spec))
    return path


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def result_of(text: str) -> dict[str, Any]:
    results = [d for d in json_lines(text) if d.get("type") == "result"]
    assert results, f"no result line in:\n{text}"
    return results[-1]


def command_lines() -> dict[int, list[str]]:
    """Live processes' arguments by pid (zombies left out)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if raw and state != "Z":
            found[int(entry.name)] = [p.decode(errors="replace") for p in raw.split(b"\0") if p]
    return found


def emulators(state: Path) -> list[int]:
    """Pids of the emulators serving ``state`` (found by their arguments, as a user would)."""
    folder = str(state.resolve())
    return sorted(
        pid
        for pid, args in command_lines().items()
        if "runner.local" in args and "serve" in args and folder in args
    )


def azurites(state: Path) -> list[int]:
    location = str(state.resolve() / "azurite")
    return sorted(
        pid
        for pid, args in command_lines().items()
        if any("azurite" in a for a in args[:2]) and location in args
    )


def alive(pid: int) -> bool:
    return pid in command_lines()
