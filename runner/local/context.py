"""What every part of the emulator shares: state folder, store, faults, Docker, settings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.local.faults import FaultInjector
from runner.local.layout import docker_environment
from runner.local.settings import Settings, load_settings
from runner.local.store import Store
from runner.local.transitions import Progressions

if TYPE_CHECKING:
    import docker
    from docker import DockerClient

STORE_FILE = "state.sqlite3"
OWNER_LABEL = "runner.local.instance"
# How long a failed connection to the Docker engine is remembered before trying again.
DOCKER_RETRY_SECONDS = 3.0


class ServiceContext:
    """Built once per emulator process and handed to every app and runtime."""

    def __init__(
        self,
        state_dir: Path,
        *,
        store: Store | None = None,
        faults: FaultInjector | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.store = store or Store(self.state_dir / STORE_FILE)
        self.faults = faults or FaultInjector()
        self.settings = settings or load_settings(self.state_dir)
        self.progressions = Progressions()
        self.stopping = threading.Event()
        # Called, last added first, when the emulator stops (after its servers).
        self.shutdown_hooks: list[Callable[[], None]] = []
        self._docker: docker.DockerClient | None = None
        self._docker_error: str | None = None
        self._docker_checked = 0.0
        self._docker_lock = threading.Lock()
        self._docker_env = docker_environment()

    @property
    def owner_labels(self) -> dict[str, str]:
        """Labels that mark a Docker container as made by this local target."""
        return {OWNER_LABEL: self.settings.instance_id}

    @property
    def docker_environment(self) -> dict[str, str]:
        return dict(self._docker_env)

    @property
    def docker_host(self) -> str:
        return self._docker_env["DOCKER_HOST"]

    @property
    def docker(self) -> docker.DockerClient | None:
        """A Docker client, or None when no engine answers (see ``docker_error``)."""
        with self._docker_lock:
            if self._docker is not None:
                return self._docker
            recent = time.monotonic() - self._docker_checked < DOCKER_RETRY_SECONDS
            if self._docker_error and recent:
                return None
            return self._connect()

    def _connect(self) -> DockerClient | None:
        self._docker_checked = time.monotonic()
        try:
            import docker as docker_sdk

            client = docker_sdk.from_env(timeout=30, environment=self._docker_env)
            client.ping()
        except Exception as exc:  # any failure means "no engine reachable"
            self._docker_error = f"no Docker engine answers at {self.docker_host}: {exc}"
            return None
        self._docker, self._docker_error = client, None
        return client

    @property
    def docker_error(self) -> str | None:
        return self._docker_error

    def use_docker(self, environment: Mapping[str, str]) -> bool:
        """Moves to the engine ``environment`` names while the current one does not answer:
        none of this target's containers can be reached there, so none is left behind.
        True when the engine in use is now the one asked for."""
        wanted = docker_environment(environment)
        with self._docker_lock:
            if wanted == self._docker_env:
                return True
            if self._answers():
                return False
            if self._docker is not None:
                self._docker.close()
            self._docker, self._docker_error, self._docker_checked = None, None, 0.0
            self._docker_env = wanted
            return True

    def _answers(self) -> bool:
        """Whether the engine in use answers now, whatever was remembered of it."""
        if self._docker is None:
            return self._connect() is not None
        try:
            self._docker.ping()
        except Exception:  # a dead engine fails in many ways (socket, HTTP, timeout)
            return False
        return True

    def close(self) -> None:
        self.stopping.set()
        if self._docker is not None:
            self._docker.close()
        self.store.close()

    def describe(self) -> dict[str, Any]:
        return {"state_dir": str(self.state_dir), "instance": self.settings.instance_id}
