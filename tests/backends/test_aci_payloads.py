"""Recorded container group payloads (the local target's and Azure's REST examples) and
the ``Observed*`` each must become. Expected values are written with ``--update-golden``
(or ``RUNNER_UPDATE_GOLDEN=1``) and reviewed as diffs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runner.backends.aci import observed_from_payload
from runner.plan.aci import canonical_group, changed_paths
from runner.plan.canonical import FingerprintKey
from runner.spec.models import ContainerGroup

PAYLOADS = sorted((Path(__file__).parent / "payloads" / "aci").glob("*.json"))
# The key the recorded payloads' fingerprint tags were made with.
RECORDED_KEY = FingerprintKey(b"recorded-payloads-key-0123456789")


def _update(request: pytest.FixtureRequest) -> bool:
    try:
        flag = bool(request.config.getoption("--update-golden"))
    except ValueError:
        flag = False
    return flag or os.environ.get("RUNNER_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("path", PAYLOADS, ids=[p.stem for p in PAYLOADS])
def test_payload_becomes_observed(path: Path, request: pytest.FixtureRequest) -> None:
    case = json.loads(path.read_text())
    got = observed_from_payload(case["payload"]).model_dump(mode="json")
    if _update(request):
        case["expected"] = got
        path.write_text(json.dumps(case, indent=2) + "\n")
    assert "expected" in case, f"{path.name} has no expected value: run with --update-golden"
    assert got == case["expected"]


def _load(name: str) -> dict:
    return json.loads((Path(__file__).parent / "payloads" / "aci" / f"{name}.json").read_text())


def test_read_back_group_matches_the_spec_it_was_made_from() -> None:
    """What the target returns for an applied spec is the spec's canonical form: a plan of
    the same spec is a no-op, secure value included (through its fingerprint tag)."""
    spec = ContainerGroup.model_validate(
        {
            "kind": "ContainerGroup",
            "name": "web",
            "resourceGroup": "payloads",
            "tags": {"team": "blue"},
            "containers": [
                {
                    "name": "app",
                    "image": "runner-test/busybox:1",
                    "command": ["sh", "-c", "httpd -f -p 8080"],
                    "ports": [{"port": 8080}],
                    "env": {"MODE": "fast"},
                    "secureEnv": {"TOKEN": "s3cret"},
                },
                {
                    "name": "sidecar",
                    "image": "runner-test/busybox:1",
                    "command": ["sleep", "3600"],
                    "cpu": 0.5,
                    "memoryInGB": 0.5,
                },
            ],
            "ipAddress": {"type": "Public", "dnsNameLabel": "web-demo"},
        }
    )
    observed = observed_from_payload(_load("running_group_with_secure_env")["payload"])
    assert changed_paths(canonical_group(spec, RECORDED_KEY), observed.definition) == []
    changed = spec.model_copy(
        update={
            "containers": [
                spec.containers[0].model_copy(update={"secure_env": {"TOKEN": "x"}}),
                spec.containers[1],
            ]
        }
    )
    assert changed_paths(canonical_group(changed, RECORDED_KEY), observed.definition) == [
        ("containers", "app", "secureEnv", "TOKEN")
    ]


def test_secure_value_is_never_in_the_payload_or_observed() -> None:
    case = _load("running_group_with_secure_env")
    assert "s3cret" not in json.dumps(case)
