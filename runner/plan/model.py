"""Plan data: one ``Change`` per resource (no-op included), ordered, immutable."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runner.plan.action import Action

FORMAT_VERSION = "1.0"


class Change(BaseModel):
    """What happens to one resource and why.

    ``address`` is ``<kind>/<scope>/<name>`` (e.g. ``ContainerGroup/rg/web``).
    ``before``/``after`` are canonical forms with secure values replaced by
    ``"(sensitive)"``; ``replace_paths`` name the fields that force a replace.
    """

    model_config = ConfigDict(frozen=True)

    address: str
    action: Action
    reason: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    replace_paths: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # every changed field, secure ones named but never shown
    subscription: str | None = None  # None: the target's default subscription

    @property
    def kind(self) -> str:
        return self.address.split("/", 1)[0]


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    format_version: str = FORMAT_VERSION
    workspace: str = ""
    changes: tuple[Change, ...] = ()
    orphans: tuple[str, ...] = Field(default=(), description="owned by workspace, not in specs")

    @property
    def has_changes(self) -> bool:
        return any(c.action.changes_anything for c in self.changes)

    def counts(self) -> dict[str, int]:
        add = sum(c.action.adds for c in self.changes)
        remove = sum(c.action.removes for c in self.changes)
        update = sum(1 for c in self.changes if c.action is Action.UPDATE)
        start = sum(1 for c in self.changes if c.action is Action.START)
        return {"add": add, "change": update, "start": start, "destroy": remove}
