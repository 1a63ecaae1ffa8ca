"""Secure values never leave a renderer, whatever a plan or event carries.

The planner already replaces them with ``(sensitive)``; renderers mask the same keys again
so a mistake upstream cannot print a secret.
"""

from __future__ import annotations

from typing import Any

SENSITIVE = "(sensitive)"
SECRET_KEYS = frozenset(
    {"secure_env", "secureEnv", "secureValue", "secure_value", "secret", "storageAccountKey"}
)


def masked(value: Any, hidden: bool = False) -> Any:
    """A copy with every non-empty value under a secret key shown as ``(sensitive)``."""
    if isinstance(value, dict):
        return {k: masked(v, hidden or k in SECRET_KEYS) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, hidden) for v in value]
    return SENSITIVE if hidden and value is not None else value
