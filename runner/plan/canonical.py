"""Canonical forms: both sides of a comparison reduced to the same spelling.

Defaults are filled, maps sorted, numbers as floats, Azure enum casing normalised and
secure values replaced by keyed fingerprints, so that a difference here is a real
difference. ``runner-hash`` is the sha256 of the canonical JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SENSITIVE = "(sensitive)"
UNKNOWN_FINGERPRINT = "fp:unknown"
MIN_KEY_BYTES = 16
_KEY_ID_LABEL = b"runner fingerprint key id"
# ``fp:<key id>:<mac>``; a fingerprint without a key id was made without a key.
_KEYED = re.compile(r"^fp:([0-9a-f]{12}):[0-9a-f]{32}$")

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


@dataclass(frozen=True, repr=False)
class FingerprintKey:
    """The secret that keys secure-value fingerprints. The engine finds it (environment or
    key file) and passes it in; nothing under ``plan/`` reads it from anywhere."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_KEY_BYTES:
            raise ValueError(f"a fingerprint key needs at least {MIN_KEY_BYTES} bytes")

    @property
    def id(self) -> str:
        """Names the key in every fingerprint, so that a machine holding another key (or
        none) knows it cannot compare; a MAC of a fixed label, it tells nothing of the key."""
        return hmac.new(self.secret, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"FingerprintKey(id={self.id})"


def fingerprint(value: str, salt: str, key: FingerprintKey) -> str:
    """An HMAC of a secure value: Azure never returns those values on GET, so the
    fingerprint kept in a tag is the only way to see that one changed. Keyed, since tags
    are read by many: with a plain hash anyone who reads them could test guesses (a PIN
    falls in 10,000 tries); without the key, no guess can be checked."""
    mac = hmac.new(key.secret, f"{salt}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"fp:{key.id}:{mac[:32]}"


def fingerprint_key_id(value: str | None) -> str | None:
    """The id of the key that made a fingerprint; None for a missing fingerprint or one
    made without a key."""
    match = _KEYED.match(value or "")
    return match.group(1) if match else None


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
