"""Changes to a running group: what updates in place, what replaces, and secure values
that change without ever being printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def running(cli: Any, names: dict[str, str], test_image: str, spec: Any, cleanup: list[Path]):
    """A single-app group applied with the defaults; yields a function of variable overrides
    to the CLI arguments for the same group."""
    cleanup.append(spec("single"))

    def args(**overrides: str) -> list[str]:
        variables = {"image": test_image, **names, **overrides}
        return cli.spec_args(spec("single"), **variables)

    cli("apply", "--yes", *args()).expect(0)
    return args


def test_image_change_updates_in_place(
    cli: Any,
    names: dict[str, str],
    running: Any,
    second_image: str,
    aci_client: Any,
    requests_seen: Any,
) -> None:
    plan = cli("plan", "--detailed-exitcode", *running(image=second_image)).expect(2)
    assert "will be updated in place" in plan.out
    assert "containers[app].image" in plan.out
    assert "forces replacement" not in plan.out

    requests_seen.reset()
    cli("apply", "--yes", *running(image=second_image)).expect(0)
    assert requests_seen.deletes() == 0
    assert requests_seen.puts() == 1
    group = aci_client.container_groups.get(names["rg"], names["name"])
    assert group.containers[0].image == second_image
    cli("plan", "--detailed-exitcode", *running(image=second_image)).expect(0)


def test_cpu_change_replaces_the_group(
    cli: Any, names: dict[str, str], running: Any, aci_client: Any, requests_seen: Any
) -> None:
    plan = cli("plan", "--detailed-exitcode", *running(cpu="2")).expect(2)
    assert "must be replaced" in plan.out
    assert "containers[app].cpu = 1.0 -> 2.0  # forces replacement" in plan.out
    assert "Plan: 1 to add, 0 to change, 0 to start, 1 to destroy." in plan.out

    requests_seen.reset()
    cli("apply", "--yes", *running(cpu="2")).expect(0)
    assert requests_seen.deletes() == 1
    assert requests_seen.puts() == 1
    group = aci_client.container_groups.get(names["rg"], names["name"])
    assert group.containers[0].resources.requests.cpu == 2
    cli("plan", "--detailed-exitcode", *running(cpu="2")).expect(0)


def test_secure_value_change_is_detected_and_never_printed(
    cli: Any, running: Any, requests_seen: Any
) -> None:
    old, new = "tok-default-0000", "tok-rotated-7777"
    text_plan = cli("plan", "--detailed-exitcode", *running(token=new)).expect(2)
    json_plan = cli("plan", "--output", "json", *running(token=new)).expect(0)
    assert "containers[app].secureEnv.API_TOKEN = (sensitive)" in text_plan.out
    change = next(
        c for c in json.loads(json_plan.out)["changes"] if c["address"].startswith("Container")
    )
    assert change["action"] == "update"

    requests_seen.reset()
    applied = cli("apply", "--yes", *running(token=new)).expect(0)
    assert requests_seen.puts() == 1
    after = cli("plan", "--detailed-exitcode", *running(token=new)).expect(0)

    for run in (text_plan, json_plan, applied, after):
        assert old not in run.text and new not in run.text


def test_saved_plan_applies_then_is_refused_once_live_state_moved(
    cli: Any, running: Any, second_image: str, tmp_path: Path
) -> None:
    saved = tmp_path / "image.plan"
    cli("plan", "-out", str(saved), *running(image=second_image)).expect(0)
    # --var values are not stored in a saved plan (they may be secret): given again.
    cli("apply", "--plan", str(saved), *running(image=second_image)).expect(0)

    # The image is live now: the same saved plan no longer describes what apply would do.
    refused = cli("apply", "--plan", str(saved), *running(image=second_image)).expect(1)
    assert "stale" in refused.err
