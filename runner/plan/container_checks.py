"""What a pool that runs containers needs before anything is made: an image whose
supported-images entry says it can run them (Batch makes a pool on any listed image, and
only its nodes fail, one by one, when the image has no container runtime), and each
registry's password in the environment."""

from __future__ import annotations

from collections.abc import Mapping

from runner.plan.batch_desired import DesiredBatch
from runner.plan.batch_observed import ObservedBatch
from runner.spec.batch_containers import CONTAINER_CAPABILITY, CONTAINER_IMAGE


def image_name(desired: DesiredBatch) -> str:
    image = desired.spec.pool.image
    return f"{image.publisher}/{image.offer}/{image.sku}"


# Where a problem of the pool's image points in the spec.
IMAGE_FIELD = "pool.image"


def container_image_problem(desired: DesiredBatch, observed: ObservedBatch) -> str | None:
    """Why the pool cannot run its containers on its image, or None: the image's
    supported-images entry lacks ``DockerCompatible``, or the account does not list it."""
    pool = desired.spec.pool
    if pool.containers is None:
        return None
    found = observed.image_capabilities
    if found is not None and CONTAINER_CAPABILITY in found:
        return None
    suggested = "/".join(CONTAINER_IMAGE[k] for k in ("publisher", "offer", "sku"))
    if found is None:
        return (
            f"pool {pool.id!r} runs containers on {image_name(desired)} with node agent "
            f"{pool.node_agent_sku!r}, which the Batch account does not list among its "
            f"supported images; {suggested} (node agent 'batch.node.ubuntu 22.04') runs them"
        )
    return (
        f"pool {pool.id!r} runs containers, but its image {image_name(desired)} cannot: "
        f"the account's supported images do not list {CONTAINER_CAPABILITY} for it; "
        f"use {suggested} (the default for a pool with containers) or another image "
        f"that lists it"
    )


def registry_password_problems(
    desired: DesiredBatch, environ: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(field path, why) for each registry whose password variable is unset or empty."""
    containers = desired.spec.pool.containers
    problems = []
    for index, registry in enumerate(containers.registries if containers else ()):
        if not environ.get(registry.password_env):
            problems.append(
                (
                    f"pool.containers.registries[{index}].passwordEnv",
                    f"registry {registry.server!r}: the environment variable "
                    f"{registry.password_env} that holds its password is not set",
                )
            )
    return problems
