"""The workspace lock held by ``runner apply`` from its plan to its end: the engine's own
lock joins it, anything else is still refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.engine.lock import WorkspaceLock
from runner.errors import LockError


def test_a_nestable_holder_is_joined_and_released_last(tmp_path: Path) -> None:
    outer = WorkspaceLock("ws", root=tmp_path, nestable=True, command="runner apply a.yaml")
    with outer:
        with WorkspaceLock("ws", root=tmp_path) as inner:
            assert inner.holder()["command"] == "runner apply a.yaml"  # type: ignore[index]
        # The inner release left the lock held by the outer holder.
        assert outer.holder()["command"] == "runner apply a.yaml"  # type: ignore[index]
    with WorkspaceLock("ws", root=tmp_path, command="runner apply b.yaml") as again:
        assert again.holder()["command"] == "runner apply b.yaml"  # type: ignore[index]


def test_a_plain_holder_is_never_joined(tmp_path: Path) -> None:
    with WorkspaceLock("ws", root=tmp_path, command="runner destroy"):
        with pytest.raises(LockError, match="runner destroy"):
            WorkspaceLock("ws", root=tmp_path).acquire()
        with pytest.raises(LockError):
            WorkspaceLock("ws", root=tmp_path, nestable=True).acquire()


def test_other_workspaces_do_not_join(tmp_path: Path) -> None:
    one = WorkspaceLock("one", root=tmp_path, nestable=True)
    two = WorkspaceLock("two", root=tmp_path)
    with one, two, pytest.raises(LockError):
        WorkspaceLock("two", root=tmp_path).acquire()
