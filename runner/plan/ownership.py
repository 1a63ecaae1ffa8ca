"""Who made a resource, as its tags or metadata say (parsed by ``backends/tags.py``): one
type for container groups, resource groups, Batch pools and jobs, blob containers and
blobs."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

MANAGED_BY = "runner"


class Ownership(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    managed_by: str | None = None
    spec: str | None = None
    workspace: str | None = None
    hash: str | None = None  # of the definition it was made from, where one is kept
    # Provenance and expiry (``plan.provenance.Stamp``): recorded, never compared.
    expires: datetime | None = None
    commit: str | None = None
    dirty: bool = False
    source: str | None = None

    @property
    def managed(self) -> bool:
        return self.managed_by == MANAGED_BY

    def owned_by(self, workspace: str, spec: str | None = None) -> bool:
        """Made by runner in ``workspace`` (and, when given, from the spec named ``spec``:
        the pieces of a BatchJob belong to one spec, so another spec's pool is not reused)."""
        if not self.managed or self.workspace != workspace:
            return False
        return spec is None or self.spec == spec

    def expired(self, now: datetime) -> bool:
        """Made by runner with an expiry that has passed: what ``runner gc`` removes."""
        return self.managed and self.expires is not None and self.expires <= now

    def describe(self) -> str:
        """Who manages it, for a container group or resource group's conflict."""
        if not self.managed:
            return "not managed by runner"
        return f"managed by runner workspace {self.workspace!r} (spec {self.spec!r})"

    def provenance(self) -> str:
        """Who made it, for a piece of a BatchJob: its spec first, then the workspace."""
        if not self.managed:
            return "not made by runner"
        return f"made by runner spec {self.spec!r} in workspace {self.workspace!r}"
