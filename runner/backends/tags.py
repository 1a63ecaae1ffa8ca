"""Ownership tags: the only module that writes or parses them.

ARM tags on container groups and resource groups say who made a resource
(``managed-by``, ``runner-spec``, ``runner-workspace``), what was sent (``runner-hash``,
the sha256 of the canonical desired form) and, since ACI never returns secure values on
GET, a fingerprint of each secure value (``runner-fp-<container>.<VAR>``,
``runner-fp-volume:<volume>.<file>``): an HMAC keyed with a secret that readers of the tags
do not hold, spelled ``fp:<key id>:<mac>`` so that a machine with another key knows it
cannot compare (``plan.canonical.fingerprint``). Tag names may not hold ``<>%&\\?/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from runner.plan.observed import MANAGED_BY, Ownership

MANAGED_BY_TAG = "managed-by"
SPEC_TAG = "runner-spec"
WORKSPACE_TAG = "runner-workspace"
HASH_TAG = "runner-hash"
FINGERPRINT_PREFIX = "runner-fp-"
_OWN = frozenset({MANAGED_BY_TAG, SPEC_TAG, WORKSPACE_TAG, HASH_TAG})


@dataclass(frozen=True)
class ParsedTags:
    ownership: Ownership
    user: dict[str, str] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)


def ownership_tags(*, spec: str, workspace: str, hash: str | None = None) -> dict[str, str]:
    tags = {MANAGED_BY_TAG: MANAGED_BY, SPEC_TAG: spec, WORKSPACE_TAG: workspace}
    if hash:
        tags[HASH_TAG] = hash
    return tags


def resource_tags(
    user: Mapping[str, str],
    *,
    spec: str,
    workspace: str,
    hash: str | None = None,
    fingerprints: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """User tags plus ownership; the runner's own keys win over user tags of the same name."""
    tags = {k: v for k, v in user.items() if not _is_own(k)}
    tags.update(ownership_tags(spec=spec, workspace=workspace, hash=hash))
    for key, value in (fingerprints or {}).items():
        tags[FINGERPRINT_PREFIX + key] = value
    return tags


def parse(tags: Mapping[str, str] | None) -> ParsedTags:
    tags = dict(tags or {})
    # ARM keeps tag names' case but compares them case-insensitively.
    lowered = {k.lower(): v for k, v in tags.items()}
    ownership = Ownership(
        managed_by=lowered.get(MANAGED_BY_TAG),
        spec=lowered.get(SPEC_TAG),
        workspace=lowered.get(WORKSPACE_TAG),
        hash=lowered.get(HASH_TAG),
    )
    fingerprints = {
        k[len(FINGERPRINT_PREFIX) :]: v
        for k, v in tags.items()
        if k.lower().startswith(FINGERPRINT_PREFIX)
    }
    user = {k: v for k, v in tags.items() if not _is_own(k)}
    return ParsedTags(ownership=ownership, user=user, fingerprints=fingerprints)


def workspace_of(tags: Mapping[str, str] | None) -> str | None:
    return parse(tags).ownership.workspace


def _is_own(key: str) -> bool:
    lowered = key.lower()
    return lowered in _OWN or lowered.startswith(FINGERPRINT_PREFIX)
