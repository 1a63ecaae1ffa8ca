"""``Address``: parsed once from its text, compared as a value, written back unchanged."""

from __future__ import annotations

import pytest

from runner.plan.action import Action
from runner.plan.model import Address, Change, Part, Plan

TEXTS = [
    ("ResourceGroup/rg", "ResourceGroup", "rg"),
    ("ContainerGroup/rg/web", "ContainerGroup", "web"),
    ("BatchJob/tw", "BatchJob", "tw"),
    ("BatchJob/tw/pool/tw-pool", "BatchPool", "tw-pool"),
    ("BatchJob/tw/job/tw-job", "BatchJob", "tw-job"),
    ("BatchJob/tw/task/tw-job/tw-a", "BatchTask", "tw-a"),
    ("BatchJob/tw/container/tw-input", "BlobContainer", "tw-input"),
    ("BatchJob/tw/blob/tw-input/a.txt", "Blob", "a.txt"),
]


@pytest.mark.parametrize(("text", "kind", "leaf"), TEXTS, ids=[t[0] for t in TEXTS])
def test_text_parses_to_its_parts_and_back(text: str, kind: str, leaf: str) -> None:
    address = Address.parse(text)
    assert str(address) == text
    assert address.resource_kind == kind
    assert address.leaf == leaf


def test_pieces_of_a_batch_spec_are_named_by_part() -> None:
    task = Address.parse("BatchJob/tw/task/tw-job/tw-a")
    assert task == Address.batch("tw", "task", "tw-a", parent="tw-job")
    assert task.part == Part(kind="task", name="tw-a", parent="tw-job")
    assert task.root == Address.batch("tw")
    group = Address.parse("ContainerGroup/rg/web")
    assert (group.scope, group.name, group.part) == ("rg", "web", None)


def test_change_kind_is_the_piece_kind_not_the_spec_kind() -> None:
    kinds = {
        piece: Change(address=Address.batch("tw", piece, "x"), action=Action.NOOP).kind
        for piece in ("pool", "job", "container")
    }
    assert kinds == {"pool": "BatchPool", "job": "BatchJob", "container": "BlobContainer"}


def test_parent_is_where_siblings_fold() -> None:
    assert str(Address.parse("BatchJob/tw/task/tw-job/tw-a").parent) == "BatchJob/tw/task/tw-job"
    assert str(Address.parse("BatchJob/tw/pool/p").parent) == "BatchJob/tw/pool"
    assert str(Address.parse("ContainerGroup/rg/web").parent) == "ContainerGroup/rg"


def test_equality_is_exact_and_folded_ignores_case() -> None:
    upper, lower = Address.parse("ContainerGroup/RG/Web"), Address.parse("ContainerGroup/rg/web")
    assert upper != lower
    assert upper.folded() == lower.folded()
    assert len({upper, lower, Address.parse("ContainerGroup/RG/Web")}) == 2


def test_json_form_keeps_addresses_as_text_and_reads_them_back() -> None:
    change = Change(
        address=Address.batch("tw", "pool", "p"),
        action=Action.CREATE,
        depends_on=(Address.batch("tw", "blob", "a.py", parent="tw-app"),),
        waits_for_delete=True,
        owned=True,
    )
    plan = Plan(changes=(change,), orphans=(Address.container_group("rg", "old"),))
    data = plan.model_dump(mode="json")
    assert data["changes"][0]["address"] == "BatchJob/tw/pool/p"
    assert data["changes"][0]["depends_on"] == ["BatchJob/tw/blob/tw-app/a.py"]
    assert data["orphans"] == ["ContainerGroup/rg/old"]
    # The engine's fields are decided from observed state: not in the format 1.0 form.
    assert set(data["changes"][0]) == {
        "address", "action", "reason", "before", "after", "replace_paths", "depends_on",
        "paths", "subscription",
    }  # fmt: skip
    again = Plan.model_validate(data)
    assert again.changes[0].address == change.address
    assert again.orphans == plan.orphans
