"""Run-time control of a started local target: faults and request counters.

Talks to the admin API over HTTPS with the target's own CA bundle; standard library only.
"""

from __future__ import annotations

import json
import ssl
import urllib.request
from typing import Any

TIMEOUT = 10.0


def _call(status: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        status["control"].rstrip("/") + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} if data is not None else {},
    )
    context = ssl.create_default_context(cafile=status["ca_bundle"])
    with urllib.request.urlopen(req, context=context, timeout=TIMEOUT) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def health(status: dict[str, Any], timeout: float = 2.0) -> dict[str, Any] | None:
    """The admin health answer, or None when nothing (or something else) answers."""
    try:
        req = urllib.request.Request(status["control"].rstrip("/") + "/health")
        context = ssl.create_default_context(cafile=status["ca_bundle"])
        with urllib.request.urlopen(req, context=context, timeout=timeout) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
    except (OSError, ValueError, KeyError):
        return None
    return answer if answer.get("pid") == status.get("pid") else None


def use_docker(status: dict[str, Any], environment: dict[str, str]) -> bool:
    """Hands the caller's Docker variables to the target; True when it uses that engine now
    (it moves only while its own engine does not answer)."""
    answer: dict[str, Any] = _call(status, "PUT", "/docker", {"environment": environment})
    return bool(answer["in_use"])


def set_faults(status: dict[str, Any], rules: list[dict[str, Any]]) -> None:
    """Replaces the fault rules (see ``runner.local.faults.FaultRule`` for the fields)."""
    _call(status, "PUT", "/faults", {"rules": rules})


def get_faults(status: dict[str, Any]) -> list[dict[str, Any]]:
    answer: dict[str, Any] = _call(status, "GET", "/faults")
    return list(answer["rules"])


def clear_faults(status: dict[str, Any]) -> None:
    _call(status, "DELETE", "/faults")


def counters(status: dict[str, Any]) -> dict[str, int]:
    """Requests seen per ``"METHOD route-template"`` since the start or the last reset."""
    return dict(_call(status, "GET", "/counters"))


def reset_counters(status: dict[str, Any]) -> None:
    _call(status, "DELETE", "/counters")


def set_transitions(status: dict[str, Any], progressions: dict[str, dict[str, Any]]) -> None:
    """Sets how fast models advance: ``{"aci.provisioning": {"mode": "seconds", "value": 1}}``;
    an empty dict goes back to ``immediate`` everywhere."""
    _call(status, "PUT", "/transitions", progressions)
