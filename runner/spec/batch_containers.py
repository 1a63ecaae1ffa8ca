"""Container tasks in a ``BatchJob``: the images a pool prefetches and the registries it pulls
from (``pool.containers``), and the image a task runs in (``tasks.container``,
``merge.container``).

A registry's password never sits in a spec: ``passwordEnv`` names the environment
variable that holds it when apply runs. Batch keeps it in the pool and never returns it.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from runner.spec.base import ENV_NAME, Model, located

# The image a container pool gets when the spec names none: Azure's Ubuntu 22.04 HPC image,
# whose supported-images entry lists DockerCompatible (Canonical's plain images do not).
CONTAINER_IMAGE = {
    "publisher": "microsoft-dsvm",
    "offer": "ubuntu-hpc",
    "sku": "2204",
    "version": "latest",
}
CONTAINER_CAPABILITY = "DockerCompatible"

# [registry[:port]/]name[:tag][@digest], as Docker reads an image reference.
IMAGE_REFERENCE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$"
)


def _image(value: str) -> str:
    if not IMAGE_REFERENCE.match(value):
        raise ValueError(
            f"{value!r} is not an image reference: [registry/]name[:tag], lowercase, "
            "as docker pull takes it"
        )
    return value


ImageName = Annotated[str, AfterValidator(_image)]


class ContainerRegistry(Model):
    """A private registry the pool's nodes log in to: ``username`` and the environment
    variable holding the password."""

    server: str
    username: str
    password_env: str
    identity: str | None = None

    @field_validator("server")
    @classmethod
    def _server(cls, v: str) -> str:
        if "/" in v or not v or any(c.isspace() for c in v):
            raise ValueError(
                f"registry server {v!r} is a host name with an optional port "
                "(myregistry.azurecr.io), without a scheme or path"
            )
        return v

    @field_validator("password_env")
    @classmethod
    def _password_env(cls, v: str) -> str:
        if not ENV_NAME.match(v):
            raise ValueError(
                f"passwordEnv names the environment variable that holds the password, "
                f"a letter or '_' then letters, digits and '_'; got {v!r}"
            )
        return v

    @field_validator("identity")
    @classmethod
    def _identity(cls, v: str | None) -> str | None:
        if v is not None:
            # Pools made through Batch's data plane, as runner makes them, carry no
            # managed identity: Batch would refuse the pull on every node after the pool
            # was made.
            raise ValueError(
                "a registry reached through a managed identity needs the identity assigned "
                "to the pool, which a pool made through the Batch service API cannot carry: "
                "give username and passwordEnv"
            )
        return v


class PoolContainers(Model):
    """Makes the pool run container tasks: ``images`` are pulled on each node before it
    takes tasks; ``registries`` are the private registries they come from."""

    type: Literal["dockerCompatible", "criCompatible"] = "dockerCompatible"
    images: list[ImageName] = Field(default_factory=list)
    registries: list[ContainerRegistry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_login_per_registry(self) -> PoolContainers:
        seen: set[str] = set()
        for index, registry in enumerate(self.registries):
            key = registry.server.lower()
            if key in seen:
                raise located(
                    f"registry {registry.server!r} is given twice", "registries", index, "server"
                )
            seen.add(key)
        return self


ContainerWorkingDirectory = Literal["task", "image"]
WORKING_DIRECTORY = {"task": "taskWorkingDirectory", "image": "containerImageDefault"}


class TaskContainer(Model):
    """The image a task's command runs in, on a pool with ``containers``. ``options`` are
    extra ``docker run`` options; ``workingDirectory`` is ``task`` (the task's working
    directory, where its input files land and its outputs are taken from) or ``image``
    (the image's own)."""

    image: ImageName
    options: str | None = None
    working_directory: ContainerWorkingDirectory = "task"


def registry_of(image: str) -> str | None:
    """The registry host an image reference names, or None for Docker Hub."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return None
