"""Container task attempts on the Docker engine, laid out as a Linux Batch node lays them out.

From the TaskContainerSettings docs: the task's command line runs in the container (it is
what follows the image in ``docker create``, so the image's ENTRYPOINT stays unless the run
options name another), every ``AZ_BATCH_*`` and task variable is set in it, and the node's
root folder is mounted at the same path, read-write (the container isolation docs: "For a
Linux container task workload, Azure Batch attaches the entire AZ_BATCH_NODE_ROOT_DIR"),
or only the data paths ``containerHostBatchBindMounts`` lists. Output goes to the task
folder's ``stdout.txt``/``stderr.txt`` while it runs. The container runs as the emulator's
user, so what the task writes in the mounted folders stays the emulator's to read and
delete. Every container carries the target's owner label and the task it runs, and its id
is recorded, so a restart after a crash removes what the old emulator left running.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from runner.local.nodes import run_options
from runner.local.nodes.attempt import Running

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

IDENTITY_PREFIX = "docker:"
TASK_LABEL = "runner.local.batch.task"
# A host variable the container must not take over from the emulator: the image has its own.
HOST_ONLY = ("PATH", "LANG", "HOME")
# containerHostBatchBindMounts sources -> the node folder each names (the isolation docs).
DATA_PATHS = {
    "shared": "shared",
    "startup": "startup",
    "vfsmounts": "fsmounts",
    "applications": "applications",
}
KILL_WAIT = 5.0
# What the OCI runtime says when the command's program is not in the image.
PROGRAM_MISSING = ("executable file not found", "no such file or directory", "permission denied")


class Engine(Protocol):
    """The Docker engine the node runs containers on (``ServiceContext`` is one)."""

    @property
    def docker(self) -> DockerClient | None: ...

    @property
    def docker_error(self) -> str | None: ...

    @property
    def docker_host(self) -> str: ...

    @property
    def owner_labels(self) -> dict[str, str]: ...


class ContainerFailure(Exception):
    """A container that could not be made or started: Batch's failure code and words."""

    def __init__(self, code: str, message: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.message = message
        self.detail = detail


def load_hint(image: str, docker_host: str) -> str:
    return (
        f"the local target pulls from no registry, so {image!r} must be on its Docker engine "
        f"({docker_host}) already: `docker pull {image}` where a registry is reachable, or "
        f"`docker load -i <file>` of a saved image, with DOCKER_HOST={docker_host}"
    )


def missing_image(client: DockerClient, image: str) -> bool:
    import docker.errors

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return True
    return False


def no_engine(engine: Engine | None) -> str:
    if engine is None:
        return "the local Batch service was started without a Docker engine"
    return engine.docker_error or f"no Docker engine answers at {engine.docker_host}"


def prefetch_error(engine: Engine | None, images: list[str]) -> dict[str, Any] | None:
    """The node error of a container pool's node whose images are not all on the engine,
    as Azure shows a prefetch that failed (the node ``unusable``, ``ContainerInvalidImage``)."""
    client = engine.docker if engine is not None else None
    if client is None:
        detail = f"the node cannot prefetch its container images: {no_engine(engine)}"
        return _node_error(images[0] if images else "", detail)
    assert engine is not None
    for image in images:
        if missing_image(client, image):
            return _node_error(image, load_hint(image, engine.docker_host))
    return None


def _node_error(image: str, detail: str) -> dict[str, Any]:
    return {
        "code": "ContainerInvalidImage",
        "message": f"The container image {image!r} could not be pulled to the node",
        "errorDetails": [{"name": "Message", "value": detail}],
    }


@dataclass(frozen=True)
class Layout:
    """Where the task's folders are on the node (host paths, the same in the container)."""

    root: Path
    task_folder: Path
    wd: Path


def container_options(
    settings: dict[str, Any], command_line: str, env: dict[str, str], where: Layout
) -> dict[str, Any]:
    """``containers.create`` arguments for the task (``ContainerFailure`` for bad settings)."""
    try:
        options = run_options.parse(settings.get("containerRunOptions"))
        command = shlex.split(command_line)
    except ValueError as err:
        raise ContainerFailure(
            "ContainerInvalidSettings",
            "At least one value of specified task container settings is invalid",
            str(err),
        ) from None
    volumes = _mounts(settings, where)
    volumes.update(options.pop("volumes", {}))
    environment = {k: v for k, v in env.items() if k not in HOST_ONLY}
    environment.update(options.pop("environment", {}))
    out: dict[str, Any] = {
        "image": settings["imageName"],
        "environment": environment,
        "volumes": volumes,
        "user": f"{os.getuid()}:{os.getgid()}",
    }
    if command:
        out["command"] = command
    if settings.get("workingDirectory", "taskWorkingDirectory").lower() != "containerimagedefault":
        out["working_dir"] = str(where.wd)
    out.update(options)
    return out


def _mounts(settings: dict[str, Any], where: Layout) -> dict[str, dict[str, str]]:
    entries = settings.get("containerHostBatchBindMounts")
    if entries is None:
        return {str(where.root): {"bind": str(where.root), "mode": "rw"}}
    volumes = {}
    for entry in entries:
        source = str(entry.get("source") or "").lower()
        if source == "task":
            path = where.task_folder
        elif source == "jobprep":
            path = where.task_folder.parent / "jobpreparation"
        elif source in DATA_PATHS:
            path = where.root / DATA_PATHS[source]
        else:
            continue
        path.mkdir(parents=True, exist_ok=True)
        mode = "ro" if entry.get("isReadOnly") else "rw"
        volumes[str(path)] = {"bind": str(path), "mode": mode}
    return volumes


@dataclass(eq=False)
class ContainerRunning(Running):
    container: Container
    copiers: list[threading.Thread] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        super().__init__()

    def kill(self) -> None:
        # Off the caller's thread: a stop comes from request handlers holding the state lock,
        # and an engine may be slow to answer.
        def work() -> None:
            with contextlib.suppress(Exception):
                self.container.kill()

        killer = threading.Thread(target=work, name="container-kill", daemon=True)
        killer.start()
        killer.join(KILL_WAIT)

    def identity(self) -> str | None:
        return f"{IDENTITY_PREFIX}{self.container.id}"


def start(
    engine: Engine | None, options: dict[str, Any], folder: Path, labels: dict[str, str]
) -> ContainerRunning:
    """Creates and starts the container, its output copied to the task folder's files."""
    import docker.errors

    client = engine.docker if engine is not None else None
    image = options["image"]
    if client is None:
        raise ContainerFailure(
            "ContainerInvalidImage",
            f"The container image {image!r} could not be pulled to the node",
            no_engine(engine),
        )
    assert engine is not None
    if missing_image(client, image):
        raise ContainerFailure(
            "ContainerInvalidImage",
            f"The container image {image!r} could not be pulled to the node",
            load_hint(image, engine.docker_host),
        )
    Path(options.get("working_dir") or folder).mkdir(parents=True, exist_ok=True)
    labels = {**options.pop("labels", {}), **engine.owner_labels, **labels}
    container = None
    try:
        container = client.containers.create(**options, labels=labels)
        container.start()
    except docker.errors.APIError as err:
        if container is not None:
            with contextlib.suppress(Exception):
                container.remove(force=True)
        text = str(err.explanation or err)
        if "exec:" in text and any(m in text.lower() for m in PROGRAM_MISSING):
            # The image is there; the command line names a program it does not have.
            cause = text[text.find("exec:") :].removesuffix(": unknown")
            raise ContainerFailure(
                "CommandProgramNotFound", "The specified command program is not found", cause
            ) from None
        raise ContainerFailure(
            "ContainerInvalidSettings",
            "At least one value of specified task container settings is invalid",
            f"the Docker engine refused the task's container: {text}",
        ) from None
    running = ContainerRunning(container)
    # Followed logs start from the container's first line and end when it exits; the
    # engine keeps no timeout on them (an attach stream would give up after a silent spell).
    running.copiers = [
        threading.Thread(
            target=_copy, args=(container, folder / name, kind), name=f"output-{kind}", daemon=True
        )
        for name, kind in (("stdout.txt", "stdout"), ("stderr.txt", "stderr"))
    ]
    for copier in running.copiers:
        copier.start()
    return running


def _copy(container: Container, path: Path, kind: str) -> None:
    with path.open("ab") as out, contextlib.suppress(Exception):  # gone: its output ends
        stream = container.logs(
            stdout=kind == "stdout", stderr=kind == "stderr", stream=True, follow=True
        )
        for chunk in stream:
            out.write(chunk)
            out.flush()


def wait(running: ContainerRunning, timeout: float | None) -> tuple[int, bool]:
    """Waits for the container; its exit code and whether ``timeout`` expired. The container
    is removed either way (a killed one reports 137, as a shell reports SIGKILL)."""
    timed_out = False
    try:
        try:
            result = running.container.wait(timeout=timeout)
        except Exception:  # requests' read timeout: the deadline passed
            if timeout is None:
                raise
            running.stop("timeout")
            timed_out = True
            result = running.container.wait()
        code = int(result.get("StatusCode", 137))
    except Exception:  # the engine lost the container (removed, engine gone)
        code = 137
    for copier in running.copiers:
        copier.join(KILL_WAIT)
    with contextlib.suppress(Exception):
        running.container.remove(force=True)
    return code, timed_out


def remove_leftover(ident: str) -> None:
    """Removes the container recorded by ``ContainerRunning.identity``, if it is there."""
    try:
        import docker

        from runner.local.layout import docker_environment

        client = docker.from_env(timeout=30, environment=docker_environment())
    except Exception:  # no engine: nothing of ours can be running there
        return
    with contextlib.closing(client), contextlib.suppress(Exception):
        client.containers.get(ident.removeprefix(IDENTITY_PREFIX)).remove(force=True)
