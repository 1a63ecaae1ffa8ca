"""Error translation with real azure-core exceptions, raised by the real SDK from real
answers of the local target (faults injected where Azure's failures are needed)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError

from runner.backends import aci as backend
from runner.backends.errors import is_not_found, translate
from runner.backends.target import local_target
from runner.errors import PermanentError, TemporaryError
from runner.spec.models import ContainerGroup

pytestmark = pytest.mark.integration

GROUPS = "Microsoft.ContainerInstance/containerGroups"


def raised(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("no exception")


def test_429_becomes_temporary_with_retry_after(aci_client: Any, faults: Any) -> None:
    faults.set(
        [
            {
                "api": "arm",
                "method": "GET",
                "route": GROUPS,
                "fault": "429",
                "count": 1,
                "retry_after": 3,
            }
        ]
    )
    exc = raised(lambda: list(aci_client.container_groups.list()))
    assert isinstance(exc, HttpResponseError) and exc.status_code == 429
    err = translate(exc)
    assert isinstance(err, TemporaryError)
    assert err.delay == 3
    assert str(err).startswith("429 ")


def test_500_becomes_temporary_without_delay(aci_client: Any, faults: Any) -> None:
    faults.set([{"api": "arm", "method": "GET", "route": GROUPS, "fault": "500", "count": 1}])
    err = translate(raised(lambda: list(aci_client.container_groups.list())))
    assert isinstance(err, TemporaryError)
    assert err.delay is None
    assert err.code == "InternalServerError"


def test_dropped_connection_becomes_temporary(aci_client: Any, faults: Any) -> None:
    faults.set([{"api": "arm", "method": "GET", "route": GROUPS, "fault": "drop", "count": 1}])
    exc = raised(lambda: list(aci_client.container_groups.list()))
    err = translate(exc)
    assert isinstance(err, TemporaryError)
    assert err.code == "ConnectionError"


def test_refused_connection_becomes_temporary(emulator: dict[str, Any]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    status = {**emulator, "arm": {**emulator["arm"], "endpoint": f"https://127.0.0.1:{port}"}}
    client = local_target(status).aci_client(emulator["arm"]["subscription"])
    exc = raised(lambda: client.container_groups.get("rg", "nothing"))
    assert isinstance(exc, ServiceRequestError)
    assert isinstance(translate(exc), TemporaryError)


def test_not_found_is_absence_for_a_reader(aci_client: Any, emulator: dict[str, Any]) -> None:
    exc = raised(lambda: aci_client.container_groups.get("no-such-rg", "no-such-group"))
    assert is_not_found(exc)
    err = translate(exc)
    assert isinstance(err, PermanentError) and err.status == 404
    client = local_target(emulator).aci_client(emulator["arm"]["subscription"])
    assert backend.read_container_group(client, "no-such-rg", "no-such-group") is None


def test_invalid_update_is_permanent_with_azure_code(
    emulator: dict[str, Any],
    resource_client: Any,
    unique_name: Callable[[str], str],
    test_image: str,
) -> None:
    rg, name = unique_name("err-rg"), unique_name("cg")
    resource_client.resource_groups.create_or_update(rg, {"location": "westeurope"})
    client = local_target(emulator).aci_client(emulator["arm"]["subscription"])

    def spec(cpu: float) -> ContainerGroup:
        return ContainerGroup.model_validate(
            {
                "kind": "ContainerGroup",
                "name": name,
                "resourceGroup": rg,
                "containers": [
                    {
                        "name": "app",
                        "image": test_image,
                        "command": ["sleep", "60"],
                        "cpu": cpu,
                        "memoryInGB": 0.5,
                    }
                ],
            }
        )

    try:
        client.container_groups.begin_create_or_update(
            rg, name, backend.group_model(spec(0.5), workspace="w")
        ).result()
        exc = raised(
            lambda: client.container_groups.begin_create_or_update(
                rg, name, backend.group_model(spec(1.0), workspace="w")
            )
        )
        err = translate(exc)
        assert isinstance(err, PermanentError)
        assert err.code == "InvalidContainerGroupUpdate"
        assert err.status == 409
    finally:
        resource_client.resource_groups.begin_delete(rg).result()


def test_unknown_api_version_is_permanent(aci_client: Any) -> None:
    exc = raised(lambda: list(aci_client.container_groups.list(api_version="2001-01-01")))
    err = translate(exc)
    assert isinstance(err, PermanentError)
    assert err.code == "NoRegisteredProviderFound"
