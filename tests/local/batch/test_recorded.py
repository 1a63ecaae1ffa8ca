"""Azure's own recorded Batch traffic, replayed against the emulator.

Each file under ``recorded/`` holds the requests azure-batch's tests sent to Azure and what
Azure answered (azure-sdk-assets, ``python/sdk/batch/azure-batch/tests/recordings``),
trimmed to the headers Batch writes. Every request is sent again, signed with the local
account's key, to an emulator of its own (the recordings list whole accounts). The answer
must match: status code; the Batch headers the recording has, and none it lacks; the same
JSON keys at every level, the same types and the same values, where timestamps, eTags,
GUIDs, request ids and host names are instance values that only need the same shape.

Entry keys beyond the recording: ``given`` (sent, not checked: what the SDK tests'
preparers made unrecorded), ``transitions`` (run-time timing set before the request),
``settle`` (after the request, read ``uri`` until ``until`` holds), ``bind`` (recorded
node ids stand for the local nodes with the same endpoint index from then on), ``follow``
(the next entry's ``{next}`` uri is this answer's ``odata.nextLink``) and ``instance``
(body path patterns whose values depend on the account, such as addresses or a reason
naming its subscription: only their type is compared), ``local`` (keys the local
account adds at a path, such as ``fileMode`` of files on a Linux node), ``content`` (text
a file download must hold) and ``sorted`` (a list in id order, compared in the local ids'
order).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from fixtures_batch import batch_client_for

from runner.backends import local_target

pytestmark = pytest.mark.integration

RECORDED = Path(__file__).parent / "recorded"
VERSION = "api-version=2024-07-01.20.0"
CASES = sorted(RECORDED.glob("*.json"))
# Headers Batch itself writes; the others (Date, Server, Transfer-Encoding...) are the
# web server's.
BATCH_HEADERS = (
    "Content-Type",
    "DataServiceId",
    "DataServiceVersion",
    "ETag",
    "Last-Modified",
    "Location",
    "request-id",
    "client-request-id",
    "ocp-batch-file-isdirectory",
    "ocp-batch-file-url",
    "ocp-creation-time",
)
INSTANCE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,7})?Z"), "<time>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
            r"[0-9a-fA-F]{12}\b"
        ),
        "<guid>",
    ),
    (re.compile(r"^0x8D[0-9A-F]{13}$"), "<etag>"),
    (re.compile(r"^https://[^/]+"), "<host>"),
    (re.compile(r"^https%3A%2F%2F.*?(?=%2F)"), "<host>"),
    (re.compile(r"\$skiptoken=[^&]+"), "$skiptoken=<token>"),
    (re.compile(r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$"), "<http-date>"),
]


def shape(text: str) -> str:
    for pattern, token in INSTANCE:
        text = pattern.sub(token, text)
    return text


def matches(where: str, pattern: str) -> bool:
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), where) is not None


def differences(
    expected: Any,
    actual: Any,
    where: str = "body",
    loose: tuple[str, ...] = (),
    local: dict[str, list[str]] | None = None,
) -> list[str]:
    if any(matches(where, p) for p in loose):
        return [] if type(expected) is type(actual) else [f"{where}: got {actual!r}"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        extra = {k for p, keys in (local or {}).items() if matches(where, p) for k in keys}
        found = [f"{where}: missing key {k!r}" for k in expected if k not in actual]
        found += [
            f"{where}: unexpected key {k!r}" for k in actual if k not in expected and k not in extra
        ]
        for key in expected.keys() & actual.keys():
            found += differences(expected[key], actual[key], f"{where}.{key}", loose, local)
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {len(expected)} items, got {actual!r}"]
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in differences(e, a, f"{where}[{i}]", loose, local)
        ]
    if type(expected) is not type(actual):
        return [f"{where}: expected {type(expected).__name__} {expected!r}, got {actual!r}"]
    if isinstance(expected, str) and shape(expected) != shape(actual):
        return [f"{where}: expected {expected!r}, got {actual!r}"]
    if not isinstance(expected, str) and expected != actual:
        return [f"{where}: expected {expected!r}, got {actual!r}"]
    return []


def header_differences(expected: dict[str, str], actual: Any) -> list[str]:
    found = []
    for name in BATCH_HEADERS:
        value = actual.get(name)
        if name not in expected:
            if value is not None:
                found.append(f"header {name}: not sent by Azure, got {value!r}")
        elif value is None:
            found.append(f"header {name}: missing (Azure sent {expected[name]!r})")
        elif name == "Location" and expected[name] == "https://example.com":
            continue  # the recording's sanitizer replaced it
        elif shape(expected[name]) != shape(value):
            found.append(f"header {name}: expected {expected[name]!r}, got {value!r}")
    return found


@pytest.fixture
def account(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A local target of its own: the recorded lists show every pool of the account."""
    status = local_target.up(tmp_path / "target")
    yield status
    local_target.down(tmp_path / "target", purge=True)


def relative(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def holds(doc: dict[str, Any], key: str, value: Any) -> bool:
    """``key`` is a property, or ``list[*].property`` for every item of a non-empty list."""
    if "[*]." in key:
        items, prop = key.split("[*].", 1)
        values = doc.get(items) or []
        return bool(values) and all(item.get(prop) == value for item in values)
    return doc.get(key) == value


def settle(client: Any, uri: str, until: dict[str, Any]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        doc = client.send_request(HttpRequest("GET", uri)).json()
        if all(holds(doc, k, v) for k, v in until.items()):
            return
        time.sleep(0.1)
    raise AssertionError(f"{uri} never reached {until}")


def bind(client: Any, pool: str, nodes: dict[str, int]) -> dict[str, str]:
    """Recorded node ids -> local ones, matched by the index their endpoints carry."""
    listed = client.send_request(HttpRequest("GET", f"/pools/{pool}/nodes?{VERSION}")).json()
    local = {}
    for node in listed["value"]:
        name = node["endpointConfiguration"]["inboundEndpoints"][0]["name"]
        local[int(name.rsplit(".", 1)[1])] = node["id"]
    return {recorded: local[index] for recorded, index in nodes.items()}


def substitute(value: Any, subs: dict[str, str]) -> Any:
    text = json.dumps(value)
    for old, new in subs.items():
        text = text.replace(old, new)
    return json.loads(text)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_recorded_traffic_gets_azures_answers(case: Path, account: dict[str, Any]) -> None:
    recording = json.loads(case.read_text())
    client = batch_client_for(account)
    if recording.get("transitions"):
        local_target.set_transitions(account, recording["transitions"])
    problems: list[str] = []
    next_uri = ""
    subs: dict[str, str] = {}
    for number, entry in enumerate(recording["entries"]):
        entry = substitute(entry, subs)
        if entry.get("transitions"):
            local_target.set_transitions(account, entry["transitions"])
        uri = next_uri if entry["uri"] == "{next}" else entry["uri"]
        kwargs = {"json": entry["body"]} if entry.get("body") is not None else {}
        try:
            response = client.send_request(HttpRequest(entry["method"], uri, **kwargs))
        except HttpResponseError as err:  # azure-batch raises on error answers
            response = err.response
        if entry.get("settle"):
            settle(client, entry["settle"]["uri"], entry["settle"]["until"])
        if entry.get("bind"):
            subs.update(bind(client, entry["bind"]["pool"], entry["bind"]["nodes"]))
        if entry.get("given"):
            assert response.status_code < 300, response.text()
            continue
        label = f"#{number} {entry['method']} {uri}"
        if response.status_code != entry["status"]:
            problems.append(
                f"{label}: status {response.status_code}, Azure answered "
                f"{entry['status']}: {response.text()[:300]}"
            )
            continue
        problems += [
            f"{label}: {d}" for d in header_differences(entry["headers"], response.headers)
        ]
        text = response.text() if entry["method"] != "HEAD" else ""
        if "content" in entry:  # a file's bytes, not JSON
            if entry["content"] not in text:
                problems.append(f"{label}: expected content {entry['content']!r}, got {text!r}")
            continue
        if entry["response"] is None:
            if text:
                problems.append(f"{label}: Azure sent no body, got {text[:200]!r}")
            continue
        body = json.loads(text)
        if entry.get("sorted"):
            # Listed in id order; with local ids, the recorded order is the ids' order.
            items = body.get(entry["sorted"], [])
            if [i["id"] for i in items] != sorted(i["id"] for i in items):
                problems.append(f"{label}: {entry['sorted']} not in id order")
            entry["response"][entry["sorted"]].sort(key=lambda i: i["id"])
        loose = tuple(p if p.startswith("*") else f"body.{p}" for p in entry.get("instance", ()))
        local = {
            p if p.startswith("*") else f"body.{p}": keys
            for p, keys in entry.get("local", {}).items()
        }
        problems += [
            f"{label}: {d}" for d in differences(entry["response"], body, "body", loose, local)
        ]
        if entry.get("follow"):
            next_uri = relative(body.get("odata.nextLink", ""))
    assert not problems, "\n".join(problems)
