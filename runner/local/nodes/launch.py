"""The two ways a node runs a task attempt: a process on this machine, or a container.

An attempt loop (``batch.execution``) starts one, registers what it started so a stop can
kill it, and waits for its exit code, the same way for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from runner.local.nodes import container_run, process
from runner.local.nodes.attempt import Running
from runner.local.nodes.container_run import ContainerRunning, Engine
from runner.local.nodes.process import ProcessRunning


class Launcher(Protocol):
    def start(self) -> Running: ...

    def wait(self, running: Running, timeout: float | None) -> tuple[int, bool]:
        """The attempt's exit code and whether ``timeout`` expired (then it was killed)."""
        ...


@dataclass(frozen=True)
class ProcessLaunch:
    command: str
    wd: Path
    env: dict[str, str]
    folder: Path

    def start(self) -> Running:
        return process.start(self.command, self.wd, self.env, self.folder)

    def wait(self, running: Running, timeout: float | None) -> tuple[int, bool]:
        assert isinstance(running, ProcessRunning)
        return process.wait(running, timeout)


@dataclass(frozen=True)
class ContainerLaunch:
    engine: Engine | None
    options: dict[str, Any]
    folder: Path
    labels: dict[str, str]

    def start(self) -> Running:
        """Raises ``container_run.ContainerFailure`` when no container could be started."""
        return container_run.start(self.engine, dict(self.options), self.folder, self.labels)

    def wait(self, running: Running, timeout: float | None) -> tuple[int, bool]:
        assert isinstance(running, ContainerRunning)
        return container_run.wait(running, timeout)
