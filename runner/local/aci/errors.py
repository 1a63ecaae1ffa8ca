"""Microsoft.ContainerInstance error codes in one table (status, message template)."""

from __future__ import annotations

from runner.local.arm.errors import ArmError, arm_error

ACI_ERRORS: dict[str, tuple[int, str]] = {
    "InvalidContainerGroupUpdate": (
        409,
        "The updates on container group '{name}' are invalid. If you are going to update the "
        "os type, restart policy, network profile, CPU, memory or GPU resources for a container "
        "group, you must delete it first and then create a new one. Changed: {fields}.",
    ),
    "ContainerGroupTransitioning": (
        409,
        "The container group '{name}' is still transitioning, please retry later.",
    ),
    "ContainerNotFound": (
        404,
        "The container '{container}' does not exist in container group '{name}'.",
    ),
    "ContainerLogNotAvailable": (
        400,
        "The logs of container '{container}' in container group '{name}' are not available: "
        "{reason}.",
    ),
    "InvalidContainerGroupName": (
        400,
        "The container group name '{name}' is invalid. The container group name must contain "
        "no more than 63 characters and must match the regex "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?' (e.g. 'my-name').",
    ),
    "InvalidContainerName": (
        400,
        "The container name '{container}' in container group '{name}' is invalid. A container "
        "name must contain no more than 63 characters and must match the regex "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?' (e.g. 'my-name').",
    ),
    "DuplicateContainerNames": (
        400,
        "The container group '{name}' has duplicate container names: '{container}'.",
    ),
    "MissingRequiredProperty": (400, "The required property '{field}' is missing in the request."),
    "InvalidRequestContent": (400, "The request content is invalid: {detail}."),
    "ContainerGroupQuotaReached": (
        400,
        "The container group '{name}' has {count} containers; at most {limit} are allowed.",
    ),
    "ResourceRequestsNotSupported": (
        400,
        "The resource requests of container '{container}' ({detail}) exceed what is "
        "supported: at most {cpu} CPU and {memory} GB memory per container.",
    ),
    "InvalidOsType": (
        400,
        "The osType '{value}' is invalid. The supported values are 'Linux', 'Windows'.",
    ),
    "InvalidRestartPolicy": (
        400,
        "The restartPolicy '{value}' is invalid. The supported values are 'Always', "
        "'OnFailure', 'Never'.",
    ),
    "DuplicateContainerPorts": (
        400,
        "The container group '{name}' uses port {port} more than once.",
    ),
    "InvalidPort": (400, "The port '{port}' is invalid: ports are 1 to 65535."),
    "InvalidDnsNameLabel": (
        400,
        "The DNS name label '{value}' needs a Public IP address type.",
    ),
    "ContainerGroupDeploymentFailed": (
        400,
        "The container group '{name}' failed to deploy: {reason}",
    ),
    "ContainerGroupStopped": (
        409,
        "The container group '{name}' is stopped; start it before restarting it.",
    ),
}


def aci_error(code: str, **fields: object) -> ArmError:
    return arm_error(code, ACI_ERRORS, **fields)
