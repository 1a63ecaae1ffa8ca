"""The closed set of things a plan can do to one resource."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"  # in place
    REPLACE = "replace"  # delete, then create
    START = "start"  # a stopped or finished group whose definition is unchanged
    DELETE = "delete"
    CONFLICT = "conflict"  # exists but not ours: never touched, reported

    @property
    def is_destructive(self) -> bool:
        return self in (Action.REPLACE, Action.DELETE)

    @property
    def changes_anything(self) -> bool:
        return self not in (Action.NOOP, Action.CONFLICT)

    @property
    def adds(self) -> int:
        return 1 if self in (Action.CREATE, Action.REPLACE) else 0

    @property
    def removes(self) -> int:
        return 1 if self in (Action.DELETE, Action.REPLACE) else 0
