"""Thin HTTP handlers for container groups: read the request, call the state, answer."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from runner.local.aci.operations import Operations
from runner.local.aci.state import ContainerGroups
from runner.local.aci.wire import for_version
from runner.local.arm.errors import arm_error
from runner.local.arm.request import empty_response, json_response, paged, request_json


class Handlers:
    def __init__(self, groups: ContainerGroups, retry_after: str) -> None:
        self.groups = groups
        self.retry_after = retry_after

    def _async_headers(self, sub: str, op_id: str, location: str) -> dict[str, str]:
        url = Operations.url(request.host_url, sub, location, op_id)
        return {"Azure-AsyncOperation": url, "Retry-After": self.retry_after}

    def _location(self, sub: str, rg: str, name: str) -> str:
        return str(self.groups.get(sub, rg, name)["location"])

    def put(self, sub: str, rg: str, name: str) -> Response:
        body, created, op_id = self.groups.create_or_update(sub, rg, name, request_json())
        headers = self._async_headers(sub, op_id, body["location"])
        return json_response(_shown(body), 201 if created else 200, headers)

    def patch(self, sub: str, rg: str, name: str) -> Response:
        tags = request_json().get("tags") or {}
        return json_response(_shown(self.groups.update_tags(sub, rg, name, tags)))

    def get(self, sub: str, rg: str, name: str) -> Response:
        return json_response(_shown(self.groups.get(sub, rg, name)))

    def delete(self, sub: str, rg: str, name: str) -> Response:
        result = self.groups.delete(sub, rg, name)
        if result is None:
            return empty_response(204)
        body, op_id = result
        return json_response(_shown(body), 200, self._async_headers(sub, op_id, body["location"]))

    def list_in_group(self, sub: str, rg: str) -> Response:
        return json_response(paged([_shown(g) for g in self.groups.list(sub, rg)]))

    def list_in_subscription(self, sub: str) -> Response:
        return json_response(paged([_shown(g) for g in self.groups.list(sub)]))

    def start(self, sub: str, rg: str, name: str) -> Response:
        op_id = self.groups.start(sub, rg, name)
        if op_id is None:
            return empty_response(204)
        headers = self._async_headers(sub, op_id, self._location(sub, rg, name))
        return empty_response(202, headers)

    def stop(self, sub: str, rg: str, name: str) -> Response:
        self.groups.stop(sub, rg, name)
        return empty_response(204)

    def restart(self, sub: str, rg: str, name: str) -> Response:
        op_id = self.groups.restart(sub, rg, name)
        headers = self._async_headers(sub, op_id, self._location(sub, rg, name))
        return empty_response(204, headers)

    def logs(self, sub: str, rg: str, name: str, container: str) -> Response:
        tail = request.args.get("tail", type=int)
        timestamps = request.args.get("timestamps", "false").lower() == "true"
        content = self.groups.logs(sub, rg, name, container, tail, timestamps)
        return json_response({"content": content})

    def operation(self, sub: str, location: str, op_id: str) -> Response:
        op = self.groups.operations.get(op_id)
        if op is None:
            raise arm_error("NotFound", path=request.path)
        headers = {"Retry-After": self.retry_after} if op["status"] == "Pending" else {}
        return json_response(op, 200, headers)


def _shown(body: dict[str, Any]) -> dict[str, Any]:
    return for_version(body, request.args.get("api-version", ""))
