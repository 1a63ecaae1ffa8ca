"""Azure's own traffic replayed against the emulator.

Each file under ``recorded/`` holds ``Entries`` in the Azure SDK test proxy's form
(RequestMethod, RequestUri, RequestBody, StatusCode, ResponseHeaders, ResponseBody), taken
from SDK recordings of real Azure (``"mode": "recorded"``) or from the REST spec's examples
(``"mode": "example"``). Each request goes to the emulator, with the host, subscription and
resource group names mapped; the answer must have the recorded status, the headers that
matter to clients, and the same JSON shape: the same keys at every level (for examples, at
least the documented ones), the same types and the same values, except values that are
naturally instance-specific (times, generated ids, IPs, passwords) and an example's
``allow`` paths, each of which says why. Groups run on the instant runtime.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

RECORDED = Path(__file__).parent / "recorded"
CASES = sorted(RECORDED.glob("*.json"))
# Values that differ from one instance to the next; their type must still match.
INSTANCE_SPECIFIC = {
    "principalId",
    "tenantId",
    "clientId",
    "startTime",
    "finishTime",
    "endTime",
    "firstTimestamp",
    "lastTimestamp",
    "ip",
    "fqdn",
    "webSocketUri",
    "password",
}
# Lists whose length and values depend on what ran (events): item keys and types only.
FREE_LISTS = {"events"}
# Fields a client writes and Azure never returns.
WRITE_ONLY = {"secureValue", "storageAccountKey", "workspaceKey"}
# Headers whose presence must match the recording either way.
PRESENCE_HEADERS = ("Azure-AsyncOperation", "Location")
# Headers that must be sent when the recording has them.
SENT_HEADERS = (
    "Retry-After",
    "Content-Type",
    "Cache-Control",
    "Pragma",
    "Expires",
    "X-Content-Type-Options",
    "Strict-Transport-Security",
)
OPERATION = re.compile(r"/providers/Microsoft\.ContainerInstance/locations/[^/]+/operations/")
RECORDED_SUBSCRIPTIONS = ("00000000-0000-0000-0000-000000000000", "subid")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def shape_diff(
    actual: Any,
    expected: Any,
    where: str,
    *,
    strict: bool,
    allow: frozenset[str] = frozenset(),
    key: str = "",
) -> list[str]:
    """Where ``actual`` differs in shape (keys, types) or fixed values from ``expected``."""
    if where in allow:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        # Azure leaves an empty event list out; whether a run has events depends on the run.
        diffs = [
            f"{where}.{k}: missing"
            for k in expected
            if k not in actual and f"{where}.{k}" not in allow and k not in FREE_LISTS
        ]
        if strict:
            diffs += [
                f"{where}.{k}: not in Azure's answer"
                for k in actual
                if k not in expected and k not in FREE_LISTS
            ]
        return diffs + [
            d
            for k, v in expected.items()
            if k in actual
            for d in shape_diff(actual[k], v, f"{where}.{k}", strict=strict, allow=allow, key=k)
        ]
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {actual!r}"]
        if key in FREE_LISTS:
            keys = {k for item in expected for k in item} if expected else None
            return [
                f"{where}.{i}: keys {sorted(item)} differ from {sorted(keys)}"
                for i, item in enumerate(actual)
                if keys is not None and set(item) != keys
            ]
        # An example documents the first items of a list; Azure's traffic shows all of them.
        if len(actual) != len(expected) and (strict or len(actual) < len(expected)):
            return [f"{where}: {len(actual)} items, Azure has {len(expected)}"]
        return [
            d
            for i, (a, e) in enumerate(zip(actual, expected, strict=False))
            for d in shape_diff(a, e, f"{where}.{i}", strict=strict, allow=allow, key=key)
        ]
    if _number(expected):
        return (
            []
            if _number(actual) and (float(actual) == float(expected))
            else [f"{where}: expected {expected!r}, got {actual!r}"]
        )
    if type(actual) is not type(expected):
        return [f"{where}: expected a {type(expected).__name__}, got {actual!r}"]
    if key in INSTANCE_SPECIFIC or actual == expected:
        return []
    return [f"{where}: expected {expected!r}, got {actual!r}"]


def secrets_returned(value: Any, where: str = "body") -> list[str]:
    """Write-only values in an answer: Azure never returns them, documented or not."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in WRITE_ONLY or (key == "secret" and item):
                found.append(f"{where}.{key}: a write-only value is returned")
            elif key == "imageRegistryCredentials" and any(
                "password" in c for c in item or [] if isinstance(c, dict)
            ):
                found.append(f"{where}.{key}: the registry password is returned")
            else:
                found += secrets_returned(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += secrets_returned(item, f"{where}.{i}")
    return found


class Replay:
    def __init__(self, status: dict[str, Any], names: dict[str, str]) -> None:
        self.base = status["arm"]["endpoint"]
        self.sub = status["arm"]["subscription"]
        self.verify = status["ca_bundle"]
        self.names = names
        self.last_operation: str | None = None
        self.last_location: str | None = None

    def map(self, value: Any) -> Any:
        if isinstance(value, str) and value in self.names:
            return self.names[value]
        if isinstance(value, str):
            for old, new in self.names.items():
                value = re.sub(
                    rf"(/resourcegroups/){re.escape(old)}(?=/|$)",
                    rf"\g<1>{new}",
                    value,
                    flags=re.IGNORECASE,
                )
            for sub in RECORDED_SUBSCRIPTIONS:
                value = value.replace(f"/subscriptions/{sub}", f"/subscriptions/{self.sub}")
            return value
        if isinstance(value, dict):
            return {self.map(k): self.map(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.map(v) for v in value]
        return value

    def url(self, recorded_uri: str) -> str:
        if OPERATION.search(recorded_uri) and self.last_operation:
            return self.last_operation
        if "/operationresults/" in recorded_uri and self.last_location:
            return self.last_location
        parts = urlsplit(recorded_uri)
        return f"{self.base}{self.map(parts.path)}?{parts.query}"

    def send(self, entry: dict[str, Any]) -> requests.Response:
        url = self.url(entry["RequestUri"])
        body = entry.get("RequestBody")
        deadline = time.monotonic() + 30
        while True:
            answer = requests.request(
                entry["RequestMethod"],
                url,
                json=self.map(body) if body is not None else None,
                headers={"Authorization": "Bearer recorded"},
                verify=self.verify,
                timeout=30,
            )
            recorded = entry.get("ResponseBody")
            # Azure's recording polled until the operation (or the group) had settled.
            pending = (
                isinstance(recorded, dict)
                and answer.status_code == 200
                and _settling(answer.json(), recorded)
            ) or (answer.status_code == 202 and entry["StatusCode"] == 200)
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if "Azure-AsyncOperation" in answer.headers:
            self.last_operation = answer.headers["Azure-AsyncOperation"]
        if "Location" in answer.headers:
            self.last_location = answer.headers["Location"]
        return answer


def _settling(actual: dict[str, Any], recorded: dict[str, Any]) -> bool:
    unsettled = ("Pending", "InProgress")
    if actual.get("status") in unsettled and recorded.get("status") not in unsettled:
        return True
    state = (actual.get("properties") or {}).get("provisioningState")
    wanted = (recorded.get("properties") or {}).get("provisioningState")
    return state in ("Pending", "Creating") and wanted not in ("Pending", "Creating")


def header_diff(answer: requests.Response, entry: dict[str, Any], strict: bool) -> list[str]:
    """Missing headers; in Azure's traffic (``strict``) also polling headers Azure did not
    send, since they change how a client polls."""
    recorded = {k.lower(): v for k, v in entry.get("ResponseHeaders", {}).items()}
    diffs = []
    for name in PRESENCE_HEADERS:
        documented = name.lower() in recorded
        if documented != (name in answer.headers) and (strict or documented):
            diffs.append(
                f"header {name}: Azure {'sends' if name.lower() in recorded else 'has'}"
                f" {recorded.get(name.lower(), 'none')}, got "
                f"{answer.headers.get(name, 'none')}"
            )
    diffs += [
        f"header {name} missing"
        for name in SENT_HEADERS
        if name.lower() in recorded and name not in answer.headers
    ]
    if "x-ms-request-id" not in answer.headers:
        diffs.append("header x-ms-request-id missing")
    if "content-type" in recorded and "Content-Type" in answer.headers:
        want = recorded["content-type"].split(";")[0]
        if answer.headers["Content-Type"].split(";")[0] != want:
            diffs.append(f"Content-Type {answer.headers['Content-Type']}, Azure {want}")
    operation = recorded.get("azure-asyncoperation")
    if operation and "Azure-AsyncOperation" in answer.headers:
        sent = answer.headers["Azure-AsyncOperation"]
        shape = OPERATION.search(urlsplit(sent).path) and urlsplit(sent).query
        if not shape or urlsplit(sent).query != urlsplit(operation).query:
            diffs.append(f"Azure-AsyncOperation {sent} is not shaped as {operation}")
    return diffs


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_recorded_traffic(case: Path, instant_target: dict[str, Any], unique_name: Any) -> None:
    recording = json.loads(case.read_text())
    strict = recording["mode"] == "recorded"
    names = {old: unique_name("rec") for old in recording.get("resourceGroups", [])}
    replay = Replay(instant_target, names)
    for old, new in names.items():
        made = requests.put(
            f"{replay.base}/subscriptions/{replay.sub}/resourcegroups/{new}?api-version=2021-04-01",
            json=recording.get("resourceGroupBody", {"location": "westus"}),
            headers={"Authorization": "Bearer recorded"},
            verify=replay.verify,
            timeout=30,
        )
        assert made.status_code == 201, f"{old}: {made.text}"
    problems: list[str] = []
    for number, entry in enumerate(recording["Entries"]):
        answer = replay.send(entry)
        where = f"#{number} {entry['RequestMethod']} {urlsplit(entry['RequestUri']).path}"
        if answer.status_code != entry["StatusCode"]:
            problems.append(
                f"{where}: status {answer.status_code}, Azure {entry['StatusCode']}:"
                f" {answer.text[:300]}"
            )
            continue
        if entry.get("check") == "status":  # a setup step
            continue
        problems += [f"{where}: {d}" for d in header_diff(answer, entry, strict)]
        expected = entry.get("ResponseBody")
        if expected is None:
            if answer.content:
                problems.append(f"{where}: body {answer.text[:200]!r}, Azure sends none")
            continue
        problems += [f"{where}: {d}" for d in secrets_returned(answer.json())]
        allow = frozenset(f"body.{p}" for p in entry.get("allow", {}))
        problems += [
            f"{where}: {d}"
            for d in shape_diff(
                answer.json(), replay.map(expected), "body", strict=strict, allow=allow
            )
        ]
    assert problems == []
