"""A resource group's running delete is kept beside the group, never in its document."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

from runner.local.arm.resource_groups import DELETION_KIND, KIND, ResourceGroups, rg_key
from runner.local.store import Store


class HeldWork(Executor):
    """Keeps submitted work unrun, so a delete stays in progress."""

    def __init__(self) -> None:
        self.held: list[Callable[..., Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.held.append(fn)
        return Future()


def test_a_second_delete_joins_the_running_one_and_the_group_shows_no_bookkeeping(
    tmp_path: Path,
) -> None:
    groups = ResourceGroups(Store(tmp_path / "state.sqlite3"), HeldWork())
    groups.put("sub", "rg", {"location": "westeurope"})

    first = groups.begin_delete("sub", "rg")

    assert groups.begin_delete("sub", "rg") == first
    assert groups.require("sub", "rg") == {
        "id": "/subscriptions/sub/resourceGroups/rg",
        "name": "rg",
        "type": "Microsoft.Resources/resourceGroups",
        "location": "westeurope",
        "properties": {"provisioningState": "Deleting"},
    }


def test_a_delete_an_older_emulator_kept_in_the_document_moves_beside_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite3")
    doc = {
        "id": "/subscriptions/sub/resourceGroups/rg",
        "name": "rg",
        "properties": {"provisioningState": "Deleting"},
        "_operation": "op1",
    }
    store.put(KIND, rg_key("sub", "rg"), doc)

    groups = ResourceGroups(store, HeldWork())

    assert "_operation" not in groups.require("sub", "rg")
    assert store.get(DELETION_KIND, rg_key("sub", "rg")) == {"operation": "op1"}
    assert groups.begin_delete("sub", "rg") == "op1"
