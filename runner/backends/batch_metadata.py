"""Ownership metadata of Batch pools and jobs, blob containers and blobs, as ``Owner``.

The keys and their parsing are ``backends/tags.py``'s (managed-by, runner-spec,
runner-workspace, runner-hash); this module only adapts them to Batch metadata items and
to blob metadata, whose names must be C# identifiers, so there the dashes become
underscores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runner.backends import tags
from runner.plan.batch import Owner
from runner.plan.observed import MANAGED_BY


def owner_metadata(spec: str, workspace: str, hash_: str | None = None) -> dict[str, str]:
    return tags.ownership_tags(spec=spec, workspace=workspace, hash=hash_)


def blob_metadata(spec: str, workspace: str, hash_: str | None = None) -> dict[str, str]:
    return {k.replace("-", "_"): v for k, v in owner_metadata(spec, workspace, hash_).items()}


def parse_owner(metadata: Mapping[str, str] | None) -> Owner:
    ownership = tags.parse({k.replace("_", "-"): v for k, v in (metadata or {}).items()}).ownership
    return Owner(
        managed=ownership.managed_by == MANAGED_BY,
        spec=ownership.spec,
        workspace=ownership.workspace,
        hash=ownership.hash,
    )


def parse_items(items: Iterable[Any] | None) -> Owner:
    """Owner from Batch ``metadata`` items (objects with ``name`` and ``value``)."""
    return parse_owner({i.name: i.value for i in items or ()})
