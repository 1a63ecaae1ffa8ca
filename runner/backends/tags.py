"""Ownership tags: the only module that writes or parses them.

ARM tags on container groups and resource groups say who made a resource
(``managed-by``, ``runner-spec``, ``runner-workspace``), what was sent (``runner-hash``,
the sha256 of the canonical desired form) and, since ACI never returns secure values on
GET, a fingerprint of each secure value (``runner-fp-<container>.<VAR>``,
``runner-fp-volume:<volume>.<file>``): an HMAC keyed with a secret that readers of the tags
do not hold, spelled ``fp:<key id>:<mac>`` so that a machine with another key knows it
cannot compare (``plan.canonical.fingerprint``). Tag names may not hold ``<>%&\\?/``.

Provenance and expiry (``plan.provenance.Stamp``): ``runner-commit`` (the sha of HEAD,
``-dirty`` appended when the working tree held changes), ``runner-source`` (the spec's
path from the repository root, percent-encoded so that blob metadata, which travels in
HTTP headers, takes it) and ``runner-expires`` (UTC, ``2026-12-03T13:05:00Z``). They are
written whenever runner creates or changes a resource and parsed into ``Ownership``, never
into the user tags: so the planner, which compares user tags and the definition, does not
see them. A commit that changes no spec must plan as "No changes" (nothing to apply, the
resources are what HEAD describes); ``runner status`` is where the commit that made a
resource is shown and compared with HEAD.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from runner.plan.observed import MANAGED_BY, Ownership
from runner.plan.provenance import Stamp

MANAGED_BY_TAG = "managed-by"
SPEC_TAG = "runner-spec"
WORKSPACE_TAG = "runner-workspace"
HASH_TAG = "runner-hash"
COMMIT_TAG = "runner-commit"
SOURCE_TAG = "runner-source"
EXPIRES_TAG = "runner-expires"
FINGERPRINT_PREFIX = "runner-fp-"
DIRTY_SUFFIX = "-dirty"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MAX_VALUE = 256  # ARM's limit on a tag value
_OWN = frozenset(
    {MANAGED_BY_TAG, SPEC_TAG, WORKSPACE_TAG, HASH_TAG, COMMIT_TAG, SOURCE_TAG, EXPIRES_TAG}
)


@dataclass(frozen=True)
class ParsedTags:
    ownership: Ownership
    user: dict[str, str] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)


def ownership_tags(
    *, spec: str, workspace: str, hash: str | None = None, stamp: Stamp | None = None
) -> dict[str, str]:
    tags = {MANAGED_BY_TAG: MANAGED_BY, SPEC_TAG: spec, WORKSPACE_TAG: workspace}
    if hash:
        tags[HASH_TAG] = hash
    tags.update(stamp_tags(stamp))
    return tags


def stamp_tags(stamp: Stamp | None) -> dict[str, str]:
    """The provenance and expiry tags of ``stamp``: only names, a sha and a time, never a
    value from the spec."""
    if stamp is None:
        return {}
    tags: dict[str, str] = {}
    if stamp.commit:
        tags[COMMIT_TAG] = stamp.commit + (DIRTY_SUFFIX if stamp.dirty else "")
    if stamp.source:
        # The end of a path too long for a tag value says more than its start.
        tags[SOURCE_TAG] = quote(stamp.source, safe="/")[-MAX_VALUE:]
    if stamp.expires is not None:
        tags[EXPIRES_TAG] = stamp.expires.astimezone(UTC).strftime(TIME_FORMAT)
    return tags


def resource_tags(
    user: Mapping[str, str],
    *,
    spec: str,
    workspace: str,
    hash: str | None = None,
    fingerprints: Mapping[str, str] | None = None,
    stamp: Stamp | None = None,
) -> dict[str, str]:
    """User tags plus ownership; the runner's own keys win over user tags of the same name."""
    tags = {k: v for k, v in user.items() if not _is_own(k)}
    tags.update(ownership_tags(spec=spec, workspace=workspace, hash=hash, stamp=stamp))
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
        expires=_time(lowered.get(EXPIRES_TAG)),
        commit=_commit(lowered.get(COMMIT_TAG))[0],
        dirty=_commit(lowered.get(COMMIT_TAG))[1],
        source=unquote(lowered[SOURCE_TAG]) if lowered.get(SOURCE_TAG) else None,
    )
    fingerprints = {
        k[len(FINGERPRINT_PREFIX) :]: v
        for k, v in tags.items()
        if k.lower().startswith(FINGERPRINT_PREFIX)
    }
    user = {k: v for k, v in tags.items() if not _is_own(k)}
    return ParsedTags(ownership=ownership, user=user, fingerprints=fingerprints)


def _time(text: str | None) -> datetime | None:
    """An expiry that does not parse is no expiry: ``gc`` leaves what it cannot read."""
    if not text:
        return None
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _commit(text: str | None) -> tuple[str | None, bool]:
    if not text:
        return None, False
    if text.endswith(DIRTY_SUFFIX):
        return text[: -len(DIRTY_SUFFIX)], True
    return text, False


def workspace_of(tags: Mapping[str, str] | None) -> str | None:
    return parse(tags).ownership.workspace


def _is_own(key: str) -> bool:
    lowered = key.lower()
    return lowered in _OWN or lowered.startswith(FINGERPRINT_PREFIX)
