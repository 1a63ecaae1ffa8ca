"""Canonical forms: both sides of a comparison reduced to the same spelling.

Defaults are filled, maps sorted, numbers as floats, Azure enum casing normalised and
secure values replaced by salted fingerprints, so that a difference here is a real
difference. ``runner-hash`` is the sha256 of the canonical JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

SENSITIVE = "(sensitive)"
UNKNOWN_FINGERPRINT = "fp:unknown"

# Azure answers enums in whatever casing it stored ("linux", "OnFailure", "tcp").
_ENUMS = {
    "linux": "Linux",
    "windows": "Windows",
    "always": "Always",
    "onfailure": "OnFailure",
    "never": "Never",
    "tcp": "TCP",
    "udp": "UDP",
    "public": "Public",
    "private": "Private",
}


def enum(value: str | None, default: str) -> str:
    if not value:
        return default
    return _ENUMS.get(value.lower(), value)


def location(value: str | None) -> str:
    """``West Europe``, ``WestEurope`` and ``westeurope`` name the same region."""
    return (value or "").replace(" ", "").lower()


def number(value: Any) -> float:
    return round(float(value), 3)


def fingerprint(value: str, salt: str) -> str:
    """A salted hash of a secure value: Azure never returns those values on GET, so the
    fingerprint kept in a tag is the only way to see that one changed."""
    digest = hashlib.sha256(f"{salt}\x00{value}".encode()).hexdigest()
    return f"fp:{digest[:32]}"


def canonical_json(form: Mapping[str, Any]) -> str:
    return json.dumps(form, sort_keys=True, separators=(",", ":"), default=str)


def form_hash(form: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(form).encode()).hexdigest()


def redact(form: Mapping[str, Any], secret_keys: frozenset[str]) -> dict[str, Any]:
    """A copy with every value under a key in ``secret_keys`` shown as ``(sensitive)``."""

    def walk(node: Any, hidden: bool) -> Any:
        if isinstance(node, Mapping):
            return {k: walk(v, hidden or k in secret_keys) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, hidden) for v in node]
        return SENSITIVE if hidden and node is not None else node

    return walk(form, False)  # type: ignore[no-any-return]
