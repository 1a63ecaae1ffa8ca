"""Container groups on a Docker engine.

One holder container per group owns the network namespace; the group's containers join
it (``network_mode=container:<holder>``), so a sidecar reaches the app on localhost, as in
ACI. Every container carries this target's owner label, so ``down`` removes its own only.

As on Azure, where a group reaches Azure Storage at the URLs runner's SAS signer hands out,
a group reaches the local target at its URLs: ``127.0.0.1:<port>`` of each of the target's
ports is bridged from the group's namespace to the host's (``loopback_bridge``), and its
containers trust the target's certificate (``container_trust``). Both need a Docker engine
on this machine; the bridge needs root too. Without them a group runs all the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.local.aci.runtime import ContainerDefinition, GroupDefinition, RunFailure
from runner.local.container_trust import trust_options, write_bundle
from runner.local.context import OWNER_LABEL, ServiceContext
from runner.local.endpoints import load_ports
from runner.local.loopback_bridge import BridgeUnavailable, LoopbackBridge, open_bridge

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

log = logging.getLogger("runner.local.containers")
GROUP_LABEL = "runner.local.group"
ROLE_LABEL = "runner.local.role"
NAME_LABEL = "runner.local.container"
STOP_TIMEOUT = 3
# How long the holder sleeps: forever, in effect; its command line tells its process apart.
HOLDER_SLEEP = "2147483647"
_RESTART = {"Always": {"Name": "always"}, "OnFailure": {"Name": "on-failure"}}
LOAD_HINT = (
    "no registry is reachable from the local target, so images must already be on the "
    "Docker engine: load one with `docker load -i image.tar`, or make one from a root file "
    "system with `tar -C rootfs -c . | docker import - {image}`"
)


def _now() -> str:
    # ACI's event times are whole seconds.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(name: str, message: str, kind: str = "Normal") -> dict[str, Any]:
    now = _now()
    return {
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "name": name,
        "message": message,
        "type": kind,
    }


def _docker_time(value: str | None) -> str | None:
    if not value or value.startswith("0001-"):
        return None
    # Docker gives nanoseconds; ACI's container times have milliseconds.
    head, _, frac = value.rstrip("Z").partition(".")
    return f"{head}.{(frac + '000')[:3]}Z" if frac else f"{head}Z"


def _group_hash(instance: str, key: str) -> str:
    return hashlib.sha256(f"{instance}/{key}".encode()).hexdigest()[:10]


class DockerRuntime:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.holder_image = os.environ.get("RUNNER_LOCAL_HOLDER_IMAGE")
        # Whether the engine applies cpu and memory limits, per engine (it can change).
        self._limits: dict[str, bool] = {}
        # Per group key: the bridge from its network namespace to the target's ports.
        self._bridges: dict[str, LoopbackBridge] = {}
        self._bridges_lock = threading.Lock()
        self._bridge_refusal: str | None = None

    # lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        pass

    def stop(self) -> None:
        client = self.ctx.docker
        if client is not None:
            # Container groups only: Batch task containers are stopped by their scheduler,
            # which records why (a task killed here first would look failed).
            _remove_all(client, {OWNER_LABEL: self.ctx.settings.instance_id}, GROUP_LABEL)
        with self._bridges_lock:
            bridges, self._bridges = list(self._bridges.values()), {}
        for bridge in bridges:
            bridge.close()

    # groups ----------------------------------------------------------------------------
    def _client(self, group: GroupDefinition) -> docker.DockerClient:
        client = self.ctx.docker
        if client is None:
            reason = (
                f"{self.ctx.docker_error}. Start a Docker engine (for example `dockerd`, or "
                "`source .ci/services.sh` in this repository), point DOCKER_HOST at it and "
                "run `runner apply` again: the runner hands its DOCKER_HOST to the local "
                "target, which moves to that engine while the one it uses does not answer."
            )
            raise RunFailure(
                reason, {c.name: [_event("Failed", reason, "Warning")] for c in group.containers}
            )
        return client

    def _labels(self, group: GroupDefinition, role: str, name: str = "") -> dict[str, str]:
        labels = {**self.ctx.owner_labels, GROUP_LABEL: group.key, ROLE_LABEL: role}
        if name:
            labels[NAME_LABEL] = name
        return labels

    def _check_images(self, client: docker.DockerClient, group: GroupDefinition) -> None:
        import docker.errors

        events: dict[str, list[dict[str, Any]]] = {}
        missing = []
        for c in group.containers:
            try:
                client.images.get(c.image)
            except docker.errors.ImageNotFound:
                missing.append(c.image)
                message = f'Failed to pull image "{c.image}": ' + LOAD_HINT.format(image=c.image)
                events[c.name] = [_event("Failed", message, "Warning")]
            else:
                events[c.name] = [_event("Pulled", f'Successfully pulled image "{c.image}"')]
        if missing:
            names = ", ".join(f'"{m}"' for m in missing)
            raise RunFailure(
                f"the image {names} is not on the local Docker engine; "
                + LOAD_HINT.format(image=missing[0]),
                events,
                {c.name: "ErrImagePull" for c in group.containers if c.image in missing},
            )

    def run(self, group: GroupDefinition) -> dict[str, list[dict[str, Any]]]:
        import docker.errors

        client = self._client(group)
        self.remove(group.key)
        self._check_images(client, group)
        suffix = _group_hash(self.ctx.settings.instance_id, group.key)
        limits_ok = self._limits_supported(client)
        bundle = self._trust_bundle()
        try:
            holder = client.containers.run(
                self.holder_image or group.containers[0].image,
                [HOLDER_SLEEP],
                entrypoint=["sleep"],
                name=f"{group.name}.holder.{suffix}",
                labels=self._labels(group, "holder"),
                init=True,  # a stop would otherwise wait for the timeout: sleep ignores TERM
                detach=True,
            )
            # Before any container starts, so that its first request finds the target.
            self._bridge(group.key, holder)
            events: dict[str, list[dict[str, Any]]] = {}
            for c in group.containers:
                try:
                    self._run_container(client, group, c, holder, suffix, limits_ok, bundle)
                except docker.errors.APIError as exc:
                    if not _cannot_start(exc):
                        raise
                    self.remove(group.key)
                    raise _start_failure(group, c, exc) from None
                # The events ACI reports for a container that starts (its recorded answers).
                events[c.name] = [
                    _event("Pulling", f'pulling image "{c.image}"'),
                    _event("Pulled", f'Successfully pulled image "{c.image}"'),
                    _event("Started", "Started container"),
                ]
        except docker.errors.APIError as exc:
            self.remove(group.key)
            reason = f"the Docker engine refused the container group: {exc.explanation or exc}"
            raise RunFailure(
                reason, {c.name: [_event("Failed", reason, "Warning")] for c in group.containers}
            ) from None
        return events

    def _run_container(
        self,
        client: docker.DockerClient,
        group: GroupDefinition,
        c: ContainerDefinition,
        holder: Container,
        suffix: str,
        limits_ok: bool,
        bundle: Path | None,
    ) -> None:
        volumes, trust_env = trust_options(bundle) if bundle else ({}, {})
        options: dict[str, Any] = {
            "name": f"{group.name}.{c.name}.{suffix}",
            "labels": self._labels(group, "container", c.name),
            # The container's own values win: it may trust another bundle on purpose.
            "environment": {**trust_env, **dict(c.env)},
            "network_mode": f"container:{holder.id}",
            "detach": True,
        }
        if volumes:
            options["volumes"] = volumes
        if c.command:
            # ACI's command replaces the image's entrypoint, as Kubernetes' command does.
            options["entrypoint"] = list(c.command[:1])
            options["command"] = list(c.command[1:])
        if group.restart_policy in _RESTART:
            options["restart_policy"] = _RESTART[group.restart_policy]
        if limits_ok:
            options["nano_cpus"] = int(c.cpu * 1e9)
            options["mem_limit"] = int(c.memory_gb * 1024**3)
        client.containers.run(c.image, **options)

    def _engine_is_here(self) -> bool:
        """Whether the engine runs on this machine: its bind mounts and processes are ours."""
        return self.ctx.docker_host.startswith("unix://")

    def _trust_bundle(self) -> Path | None:
        if not self._engine_is_here():
            return None
        try:
            return write_bundle(self.ctx.state_dir)
        except OSError as exc:  # no certificate (a target without TLS): nothing to trust
            log.info("containers do not trust the local target's certificate: %s", exc)
            return None

    def _bridge(self, key: str, holder: Container) -> None:
        self._close_bridge(key)
        ports = sorted(set(load_ports(self.ctx.state_dir).values()))
        if not ports or not self._engine_is_here():
            return
        holder.reload()  # the answer to run() was read before the holder started
        pid = int(holder.attrs.get("State", {}).get("Pid") or 0)
        try:
            bridge = open_bridge(pid, ports, HOLDER_SLEEP.encode())
        except BridgeUnavailable as exc:
            # Said once per reason: every group would say the same.
            if str(exc) != self._bridge_refusal:
                self._bridge_refusal = str(exc)
                log.info("groups cannot reach the local target on 127.0.0.1: %s", exc)
            return
        with self._bridges_lock:
            self._bridges[key] = bridge

    def _close_bridge(self, key: str) -> None:
        with self._bridges_lock:
            bridge = self._bridges.pop(key, None)
        if bridge is not None:
            bridge.close()

    def _limits_supported(self, client: docker.DockerClient) -> bool:
        host = self.ctx.docker_host
        if host not in self._limits:
            info = client.info()
            self._limits[host] = bool(info.get("CpuCfsQuota")) and bool(info.get("MemoryLimit"))
        return self._limits[host]

    def _containers(self, client: docker.DockerClient, key: str) -> list[Container]:
        return list(
            client.containers.list(
                all=True,
                filters={
                    "label": [
                        f"{OWNER_LABEL}={self.ctx.settings.instance_id}",
                        f"{GROUP_LABEL}={key}",
                    ]
                },
            )
        )

    def observe(self, group: GroupDefinition) -> dict[str, dict[str, Any]] | None:
        client = self.ctx.docker
        if client is None:
            return None
        by_name = {
            c.labels.get(NAME_LABEL): c
            for c in self._containers(client, group.key)
            if c.labels.get(ROLE_LABEL) == "container"
        }
        if not by_name:
            return None
        return {name: _view(c.attrs) for name, c in by_name.items() if name}

    def remove(self, key: str) -> None:
        client = self.ctx.docker
        if client is None:
            return
        _remove_all(client, {OWNER_LABEL: self.ctx.settings.instance_id, GROUP_LABEL: key})
        self._close_bridge(key)

    def logs(
        self, group: GroupDefinition, container: str, tail: int | None, timestamps: bool = False
    ) -> str | None:
        client = self.ctx.docker
        if client is None:
            return None
        for c in self._containers(client, group.key):
            if c.labels.get(NAME_LABEL) == container:
                raw = c.logs(
                    stdout=True,
                    stderr=True,
                    timestamps=timestamps,
                    tail=tail if tail is not None else "all",
                )
                return bytes(raw).decode("utf-8", errors="replace")
        return None


def _view(attrs: dict[str, Any]) -> dict[str, Any]:
    state = attrs.get("State", {})
    status = state.get("Status")
    started = _docker_time(state.get("StartedAt"))
    finished = _docker_time(state.get("FinishedAt"))
    current: dict[str, Any]
    if status == "running":
        current = {"state": "Running", "startTime": started, "detailStatus": ""}
    elif status in ("exited", "dead"):
        code = int(state.get("ExitCode", 0))
        current = {
            "state": "Terminated",
            "startTime": started,
            "finishTime": finished,
            "exitCode": code,
            "detailStatus": "Completed" if code == 0 else "Error",
        }
    elif status == "restarting":
        current = {
            "state": "Waiting",
            "detailStatus": "CrashLoopBackOff: Back-off restarting failed container",
        }
    else:
        current = {"state": "Waiting", "detailStatus": "ContainerCreating"}
    view: dict[str, Any] = {
        "restartCount": int(attrs.get("RestartCount", 0)),
        "currentState": {k: v for k, v in current.items() if v is not None},
    }
    if view["restartCount"] and status == "running" and finished:
        view["previousState"] = {
            "state": "Terminated",
            "finishTime": finished,
            "exitCode": int(state.get("ExitCode", 0)),
            "detailStatus": "Error",
        }
    return view


def _remove_all(client: docker.DockerClient, labels: dict[str, str], *having: str) -> None:
    """Removes the containers with these label values (and the ``having`` labels)."""
    import docker.errors

    found = client.containers.list(
        all=True, filters={"label": [f"{k}={v}" for k, v in labels.items()] + list(having)}
    )
    # Members first, holders last: members share the holder's network namespace.
    found.sort(key=lambda c: c.labels.get(ROLE_LABEL) == "holder")
    for container in found:
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            container.remove(force=True)


def remove_owned_containers(instance_id: str, environment: dict[str, str] | None = None) -> None:
    """Removes every container of the target ``instance_id`` from the engine ``environment``
    names (default: this process's); no engine there: nothing to do."""
    try:
        import docker

        client = docker.from_env(timeout=30, environment=environment)
        client.ping()
    except Exception:  # no engine reachable: nothing of ours can be running there
        return
    with contextlib.closing(client):
        _remove_all(client, {OWNER_LABEL: instance_id})


# What an OCI runtime says when a container's process cannot be started (a command that is
# not in the image, or not executable): the image was pulled, the command is the cause.
_START_ERRORS = ("executable file not found", "no such file or directory", "permission denied")


def _cannot_start(exc: Exception) -> bool:
    text = str(getattr(exc, "explanation", None) or exc).lower()
    return (
        "starting container process" in text
        or "exec:" in text
        and any(e in text for e in _START_ERRORS)
    )


def _start_failure(group: GroupDefinition, c: ContainerDefinition, exc: Exception) -> RunFailure:
    """The container's command could not be started: say so, as a Kubernetes node does
    (``StartError``), with the runtime's own words."""
    text = str(getattr(exc, "explanation", None) or exc)
    cause = text[text.find("exec:") :] if "exec:" in text else text
    cause = cause.removesuffix(": unknown").strip()
    command = " ".join(c.command) if c.command else "the image's default command"
    reason = f"container {c.name!r} could not start {command!r}: {cause}"
    return RunFailure(
        reason,
        {
            c.name: [
                _event("Pulled", f'Successfully pulled image "{c.image}"'),
                _event(
                    "Failed", f"Error: failed to start container {c.name!r}: {cause}", "Warning"
                ),
            ]
        },
        {c.name: f"StartError: {cause}"},
    )
