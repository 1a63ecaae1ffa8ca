"""Ownership metadata of Batch pools and jobs, blob containers and blobs, as ``Ownership``.

The keys and their parsing are ``backends/tags.py``'s (managed-by, runner-spec,
runner-workspace, runner-hash); this module only adapts them to Batch metadata items and
to blob metadata, whose names must be C# identifiers, so there the dashes become
underscores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runner.backends import tags
from runner.plan.ownership import Ownership
from runner.plan.provenance import Stamp


def owner_metadata(
    spec: str, workspace: str, hash_: str | None = None, stamp: Stamp | None = None
) -> dict[str, str]:
    return tags.ownership_tags(spec=spec, workspace=workspace, hash=hash_, stamp=stamp)


def blob_metadata(
    spec: str, workspace: str, hash_: str | None = None, stamp: Stamp | None = None
) -> dict[str, str]:
    items = owner_metadata(spec, workspace, hash_, stamp).items()
    return {k.replace("-", "_"): v for k, v in items}


def parse_owner(metadata: Mapping[str, str] | None) -> Ownership:
    return tags.parse({k.replace("_", "-"): v for k, v in (metadata or {}).items()}).ownership


def parse_items(items: Iterable[Any] | None) -> Ownership:
    """Ownership from Batch ``metadata`` items (objects with ``name`` and ``value``)."""
    return parse_owner({i.name: i.value for i in items or ()})
