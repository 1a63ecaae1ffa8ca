"""Pure parts of the local target: fault rules, path case, transitions, update rules, store."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.local.aci.model import replace_fields
from runner.local.arm.request import canonical_path
from runner.local.faults import FaultInjector, parse_rule_text, parse_rules
from runner.local.store import Store
from runner.local.transitions import ACI_PROVISIONING, InvalidTransition, Progression


def test_fault_rule_text_becomes_typed_rule_data() -> None:
    rule = parse_rule_text(
        "fault=429, api=arm, method=put, route=containerGroups, count=3, retry-after=2"
    )
    assert rule == {
        "fault": "429",
        "api": "arm",
        "method": "put",
        "route": "containerGroups",
        "count": 3,
        "retry_after": 2.0,
    }


@pytest.mark.parametrize(
    "text", ["fault=418", "fault=429,api=blob", "fault=500,rate=2", "fault=500,colour=red", "429"]
)
def test_bad_fault_rules_are_refused(text: str) -> None:
    with pytest.raises((ValueError, KeyError)):
        parse_rule_text(text)


def test_count_rules_fire_exactly_count_times_and_match_method_and_route() -> None:
    faults = FaultInjector(
        parse_rules([{"fault": "500", "method": "PUT", "route": "groups", "count": 2}])
    )
    assert faults.pick("arm", "GET", "/containerGroups/{name}", "/containerGroups/a") is None
    hits = [
        faults.pick("arm", "PUT", "/containerGroups/{name}", "/containerGroups/a") for _ in range(4)
    ]
    assert [h is not None for h in hits] == [True, True, False, False]


def test_lro_latency_rules_do_not_delay_requests() -> None:
    faults = FaultInjector(parse_rules([{"fault": "latency", "lro_latency": 0.5}]))
    assert faults.pick("arm", "PUT", "/x", "/x") is None
    assert faults.lro_latency("arm", "PUT", "/x") == 0.5
    assert faults.lro_latency("batch", "PUT", "/x") == 0.5


def test_arm_path_segments_match_case_insensitively_but_names_keep_their_case() -> None:
    path = (
        "/subscriptions/S/resourcegroups/MyRG/providers/microsoft.containerinstance/"
        "containergroups/Start/START"
    )
    assert canonical_path(path) == (
        "/subscriptions/S/resourceGroups/MyRG/providers/Microsoft.ContainerInstance/"
        "containerGroups/Start/start"
    )


@given(
    st.lists(
        st.sampled_from(
            ["subscriptions", "RESOURCEGROUPS", "x", "Providers", "logs", "containers", "Stop"]
        ),
        max_size=8,
    )
)
def test_canonical_path_is_idempotent(parts: list[str]) -> None:
    path = "/" + "/".join(parts)
    assert canonical_path(canonical_path(path)) == canonical_path(path)


def test_provisioning_transitions_are_declared() -> None:
    assert ACI_PROVISIONING.check("Pending", "Creating") == "Creating"
    with pytest.raises(InvalidTransition):
        ACI_PROVISIONING.check("Deleting", "Creating")
    assert Progression("reads", 2).due(0, reads=2, now=0)
    assert not Progression("seconds", 5).due(entered_at=10, reads=0, now=12)


GROUP: dict[str, Any] = {
    "location": "westeurope",
    "properties": {
        "osType": "Linux",
        "restartPolicy": "Always",
        "containers": [
            {
                "name": "app",
                "properties": {
                    "image": "a:1",
                    "ports": [{"port": 80}],
                    "resources": {"requests": {"cpu": 1, "memoryInGB": 1.5}},
                },
            }
        ],
    },
}


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("properties", "osType"), "Windows", "os type"),
        (("properties", "restartPolicy"), "Never", "restart policy"),
        (
            ("properties", "containers", 0, "properties", "resources", "requests", "cpu"),
            2,
            "containers[app].cpu",
        ),
        (
            ("properties", "containers", 0, "properties", "ports"),
            [{"port": 81}],
            "containers[app].ports",
        ),
    ],
)
def test_fields_that_need_a_replace(path: tuple[Any, ...], value: Any, field: str) -> None:
    new = copy.deepcopy(GROUP)
    target: Any = new
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert replace_fields(GROUP, new) == [field]


def test_image_env_and_tags_update_in_place() -> None:
    new = copy.deepcopy(GROUP)
    new["tags"] = {"a": "b"}
    new["properties"]["containers"][0]["properties"]["image"] = "a:2"
    new["properties"]["containers"][0]["properties"]["environmentVariables"] = [
        {"name": "X", "value": "1"}
    ]
    assert replace_fields(GROUP, new) == []


def test_store_lists_by_prefix_and_survives_reopening(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store.put("k", "sub/rg/a", {"n": 1})
    store.put("k", "sub/rg/b", {"n": 2})
    store.put("k", "sub/rg2/c", {"n": 3})
    assert store.list("k", "sub/rg/") == [{"n": 1}, {"n": 2}]
    assert store.update("k", "sub/rg/a", lambda d: {**d, "n": 9}) == {"n": 9}
    assert store.delete("k", "sub/rg/b") and not store.delete("k", "sub/rg/b")
    store.close()
    again = Store(tmp_path / "s.sqlite3")
    assert [key for key, _ in again.items("k")] == ["sub/rg/a", "sub/rg2/c"]
