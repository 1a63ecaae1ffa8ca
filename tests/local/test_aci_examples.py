"""The REST spec's ACI examples (2023-05-01), replayed against the emulator.

Each file under ``examples/`` holds one request and the answer the spec documents for it:
the status, headers that must be there, and a body whose every field must be in the answer
(``"*"`` matches any value). ``given`` names examples replayed first, unchecked. The groups
run on the instant runtime: these tests are about the HTTP shapes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.backends import local_target

EXAMPLES = Path(__file__).parent / "examples"
CASES = sorted(EXAMPLES.glob("*.json"))
TRANSITIONING = ("Pending", "Creating", "Deleting")


@pytest.fixture(scope="module")
def instant_status(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    state = tmp_path_factory.mktemp("examples-target")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNNER_LOCAL_RUNTIME", "instant")
        status = local_target.up(state)
    yield status
    local_target.down(state, purge=True)


class Replay:
    def __init__(self, status: dict[str, Any], rg: str) -> None:
        self.base = status["arm"]["endpoint"]
        self.sub = status["arm"]["subscription"]
        self.verify = status["ca_bundle"]
        self.rg = rg

    def fill(self, value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("{sub}", self.sub).replace("{rg}", self.rg)
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return value

    def send(
        self, method: str, path: str, body: Any = None, version: str = "2023-05-01"
    ) -> requests.Response:
        url = f"{self.base}/subscriptions/{self.sub}/{self.fill(path)}"
        sep = "&" if "?" in url else "?"
        return requests.request(
            method,
            f"{url}{sep}api-version={version}",
            headers={"Authorization": "Bearer example"},
            json=self.fill(body) if body is not None else None,
            verify=self.verify,
            timeout=30,
        )

    def settle(self) -> None:
        """Waits until no group of the resource group is mid-operation."""
        deadline = time.monotonic() + 30
        path = f"resourceGroups/{self.rg}/providers/Microsoft.ContainerInstance/containerGroups"
        while time.monotonic() < deadline:
            states = [
                g["properties"]["provisioningState"] for g in self.send("GET", path).json()["value"]
            ]
            if not any(s in TRANSITIONING for s in states):
                return
            time.sleep(0.1)
        raise AssertionError(f"groups still transitioning: {states}")

    def run(self, example: dict[str, Any]) -> requests.Response:
        self.settle()
        req = example["request"]
        return self.send(req["method"], req["path"], req.get("body"))


def contains(actual: Any, expected: Any, where: str = "body") -> list[str]:
    """Differences where ``actual`` lacks or changes what ``expected`` documents."""
    if expected == "*":
        return [] if actual is not None else [f"{where}: missing"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        return [d for k, v in expected.items() for d in contains(actual.get(k), v, f"{where}.{k}")]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {len(expected)} items, got {actual!r}"]
        return [
            d
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            for d in contains(a, e, f"{where}.{i}")
        ]
    return [] if actual == expected else [f"{where}: expected {expected!r}, got {actual!r}"]


def lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, list):
            data = data[int(part)] if int(part) < len(data) else None
        elif isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_spec_example(case: Path, instant_status: dict[str, Any], unique_name: Any) -> None:
    example = json.loads(case.read_text())
    rg = unique_name("examples")
    replay = Replay(instant_status, rg)
    assert (
        replay.send(
            "PUT", f"resourcegroups/{rg}", {"location": "westeurope"}, "2025-04-01"
        ).status_code
        == 201
    )
    for name in example.get("given", []):
        given = replay.run(json.loads((EXAMPLES / f"{name}.json").read_text()))
        assert given.status_code < 300, f"{name}: {given.status_code} {given.text}"
    answer = replay.run(example)
    ((status, documented),) = example["responses"].items()
    assert answer.status_code == int(status), answer.text
    for header in documented.get("headers", []):
        assert header in answer.headers, f"{header} missing from {dict(answer.headers)}"
    if "body" in documented:
        assert contains(answer.json(), replay.fill(documented["body"])) == []
    else:
        assert answer.content == b""
    for path in documented.get("absent", []):
        assert lookup(answer.json(), path) is None, f"{path} should be absent"
