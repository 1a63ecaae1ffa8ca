"""Plans built as data (``plans/<case>.yaml``) rendered as text and JSON, compared with
``golden/<case>.txt`` and ``golden/<case>.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from runner.plan.model import Plan
from runner.render.json import plan_dict
from runner.render.plan_text import plan_text

HERE = Path(__file__).parent
CASES = sorted((HERE / "plans").glob("*.yaml"))


def load_plan(path: Path) -> Plan:
    return Plan.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_plan_text_matches_golden(case: Path, golden) -> None:
    golden(HERE / "golden" / f"{case.stem}.txt", plan_text(load_plan(case)))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_plan_json_matches_golden(case: Path, golden) -> None:
    text = json.dumps(plan_dict(load_plan(case)), indent=2, sort_keys=True) + "\n"
    golden(HERE / "golden" / f"{case.stem}.json", text)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_plan_json_round_trips_to_the_same_plan(case: Path) -> None:
    plan = load_plan(case)
    assert Plan.model_validate(plan_dict(plan)) == plan
