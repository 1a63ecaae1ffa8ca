"""Data-driven planner cases: each ``cases/aci/<case>.yaml`` holds desired specs, observed
state and the expected changes (or error). The file stem is the test id.

Observed container groups are written as the spec they were applied from (``applied``),
which the driver turns into the canonical definition a reader would return, or as a literal
``definition``. Ownership defaults to this workspace. Secure values are fingerprinted with
this machine's key, or, for a group with ``appliedWith: another-key``, with another's.
A change may also name ``waits_for_delete``, ``owned``, ``tags_only`` and ``kind``, which
the engine reads off the ``Change``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.plan.aci import canonical_group
from runner.plan.canonical import FingerprintKey
from runner.plan.diff import diff, diff_destroy
from runner.plan.model import Address, Change
from runner.plan.observed import (
    ObservedContainerGroup,
    ObservedResourceGroup,
    ObservedState,
    Ownership,
)
from runner.spec.models import ContainerGroup

CASES = sorted((Path(__file__).parent / "cases" / "aci").glob("*.yaml"))
WORKSPACE = "demo"
MINE = {"managed_by": "runner", "workspace": WORKSPACE}
KEY = FingerprintKey(b"this-machine-key-0123456789")
KEYS = {"this-key": KEY, "another-key": FingerprintKey(b"another-machine-key-0123456789")}


def _spec(doc: dict[str, Any], rg: str | None = None, name: str | None = None) -> ContainerGroup:
    base: dict[str, Any] = {"kind": "ContainerGroup"}
    if rg:
        base["resourceGroup"] = rg
    if name:
        base["name"] = name
    return ContainerGroup.model_validate({**base, **doc})


def _observed(doc: dict[str, Any]) -> ObservedState:
    rgs = {}
    for text, raw in (doc.get("resourceGroups") or {}).items():
        address = Address.parse(text)
        name = address.name
        rgs[address] = ObservedResourceGroup(
            name=name,
            location=raw.get("location", "westeurope"),
            ownership=Ownership(**raw.get("ownership", MINE)),
        )
    groups = {}
    for text, raw in (doc.get("containerGroups") or {}).items():
        address = Address.parse(text)
        rg, name = address.scope, address.name
        definition = raw.get("definition")
        if definition is None:
            key = KEYS[raw.get("appliedWith", "this-key")]
            definition = canonical_group(_spec(raw["applied"], rg, name), key)
        groups[address] = ObservedContainerGroup(
            name=name,
            resource_group=rg,
            location=definition.get("location", ""),
            ownership=Ownership(**raw.get("ownership", MINE)),
            definition=definition,
            provisioning_state=raw.get("provisioningState", "Succeeded"),
            instance_state=raw.get("instanceState"),
        )
    return ObservedState(resource_groups=rgs, container_groups=groups)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_plan_case(path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    desired = [_spec(d) for d in case.get("desired") or []]
    observed = _observed(case.get("observed") or {})
    mode = case.get("mode", "apply")

    def run() -> Any:
        if mode == "apply":
            prune = case.get("prune", False)
            return diff(desired, observed, workspace=WORKSPACE, prune=prune, key=KEY)
        if mode == "destroy":
            return diff_destroy(desired, observed, workspace=WORKSPACE)
        return diff_destroy(None, observed, workspace=WORKSPACE)

    if "error" in case:
        with pytest.raises(Exception, match=case["error"]):
            run()
        return
    plan = run()
    expected = case["expected"]
    assert [str(ch.address) for ch in plan.changes] == [c["address"] for c in expected["changes"]]
    got = [_project(ch, want) for ch, want in zip(plan.changes, expected["changes"], strict=True)]
    assert got == expected["changes"]
    assert [str(o) for o in plan.orphans] == expected.get("orphans", [])
    if "has_changes" in expected:
        assert plan.has_changes is expected["has_changes"]
    for ch in plan.changes:
        for side in (ch.before, ch.after):
            assert "fp:" not in str(side), "secure fingerprints must be shown as (sensitive)"


# What the engine is told beyond the action; not part of the JSON form, read off the Change.
ENGINE_FIELDS = ("waits_for_delete", "owned", "tags_only", "kind")


def _project(ch: Change, want: dict[str, Any]) -> dict[str, Any]:
    """Only the keys the case names are compared; ``reason`` matches as a substring."""
    change = ch.model_dump(mode="json") | {k: getattr(ch, k) for k in ENGINE_FIELDS}
    out = {k: change[k] for k in want}
    for key in ("replace_paths", "paths", "depends_on"):
        if key in out:
            out[key] = list(out[key])
    if "reason" in want and want["reason"] in change["reason"]:
        out["reason"] = want["reason"]
    return out
