"""Batch wire helpers: timestamps, eTags, ISO 8601 durations, and documents as sent.

Documents are kept in their wire shape (camelCase, as in azure-rest-api-specs'
BatchService.json); the emulator's own bookkeeping lives beside them (``runtime``). ``url``
fields depend on the address the client used, so they are added per response rather than
stored.
"""

from __future__ import annotations

import copy
import itertools
import re
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

# Batch's "no limit" duration: .NET TimeSpan.MaxValue, as the service returns it.
MAX_DURATION = "P10675199DT2H48M5.4775807S"
_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_etag_lock = threading.Lock()
_etag_counter = itertools.count()


def iso_from_ns(stamp_ns: int) -> str:
    """A UTC timestamp as Batch (.NET) writes it: up to seven fraction digits, trailing
    zeros dropped (``2025-03-19T19:43:55.048782Z``, ``...:55.0618231Z``)."""
    seconds, rest = divmod(stamp_ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{rest // 100:07d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"


def now_iso() -> str:
    """UTC now as Batch writes it (see ``iso_from_ns``)."""
    return iso_from_ns(time.time_ns())


def parse_iso(value: str) -> datetime:
    text = value.rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def http_date(value: str) -> str:
    """An ISO timestamp as an RFC 1123 header value (``Last-Modified``)."""
    return format_datetime(parse_iso(value), usegmt=True)


def new_etag() -> str:
    """An eTag shaped like Batch's (``0x8D3D623CD661246``), unique within this process."""
    with _etag_lock:
        stamp = time.time_ns() // 100 + next(_etag_counter)
    return f"0x8D{stamp & 0xFFFFFFFFFFFFF:013X}"


def parse_duration(value: str | None) -> float | None:
    """Seconds in an ISO 8601 duration (``PT5S``, ``P1DT2H``); None for no limit."""
    if not value or value == MAX_DURATION:
        return None
    match = _DURATION.match(value)
    if not match or value in ("P", "PT"):
        raise ValueError(value)
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]


def format_duration(seconds: float) -> str:
    """Seconds as Batch writes a duration back (``PT06M00S`` is returned as ``PT6M``)."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    date = f"{int(days)}D" if days else ""
    clock = "".join(f"{int(v)}{u}" for v, u in ((hours, "H"), (minutes, "M")) if v)
    if secs:
        clock += f"{secs:.7f}".rstrip("0").rstrip(".") + "S"
    if not date and not clock:
        clock = "0S"
    return f"P{date}" + (f"T{clock}" if clock else "")


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of the document.

    Callers hold the state lock; the copy can then be serialised after it is released
    while runner threads keep changing the live document.
    """
    return copy.deepcopy(doc)


def select(doc: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """Applies an OData ``$select`` (top-level property names, comma separated)."""
    if not fields:
        return doc
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    return {k: v for k, v in doc.items() if k in wanted}


def pool_out(doc: dict[str, Any], base: str) -> dict[str, Any]:
    return {"id": doc["id"], "url": f"{base}/pools/{quote(doc['id'])}", **public(doc)}


def job_out(doc: dict[str, Any], base: str) -> dict[str, Any]:
    return {"id": doc["id"], "url": f"{base}/jobs/{quote(doc['id'])}", **public(doc)}


def task_url(base: str, job_id: str, task_id: str) -> str:
    return f"{base}/jobs/{quote(job_id)}/tasks/{quote(task_id)}"


def task_out(doc: dict[str, Any], job_id: str, base: str) -> dict[str, Any]:
    out = {"id": doc["id"], "url": task_url(base, job_id, doc["id"]), **public(doc)}
    node = doc.get("nodeInfo")
    if node:
        node_url = f"{base}/pools/{quote(node['poolId'])}/nodes/{quote(node['nodeId'])}"
        out["nodeInfo"] = {
            **node,
            "nodeUrl": node_url,
            "taskRootDirectoryUrl": f"{node_url}/files/{node['taskRootDirectory']}",
        }
    return out


def node_out(doc: dict[str, Any], pool_id: str, base: str) -> dict[str, Any]:
    url = f"{base}/pools/{quote(pool_id)}/nodes/{quote(doc['id'])}"
    return {"id": doc["id"], "url": url, **public(doc)}


def touch(doc: dict[str, Any]) -> None:
    """Marks a change a request made: a new eTag and lastModified."""
    doc["eTag"], doc["lastModified"] = new_etag(), now_iso()


def set_state(doc: dict[str, Any], state: str, key: str = "state") -> None:
    """Moves the entity's ``key`` (``state``, ``allocationState``) on, stamping when."""
    now = now_iso()
    doc[key] = state
    doc[f"{key}TransitionTime"] = now
