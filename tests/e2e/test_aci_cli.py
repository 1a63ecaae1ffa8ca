"""The CLI's contract around container groups: exit codes, confirmation, JSON output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from runner_cli import runner_without_target as runner

GOOD = """\
kind: ContainerGroup
name: web
resourceGroup: rg
containers: [{name: app, image: "runner-test/busybox:1"}]
"""
BAD = GOOD.replace("name: web", "name: Not_Valid")


def test_apply_off_a_terminal_without_yes_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    (tmp_path / "web.yaml").write_text(GOOD)
    run = runner(tmp_path, "apply", "web.yaml")
    assert run.returncode == 1
    assert "--yes" in run.stderr
    assert not (tmp_path / "no-target").exists()


def test_destroy_off_a_terminal_without_yes_is_refused(tmp_path: Path) -> None:
    run = runner(tmp_path, "destroy", "--workspace", "nothing-here")
    assert run.returncode == 1
    assert "--yes" in run.stderr


def test_plan_error_wins_over_detailed_exit_code(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    run = runner(tmp_path, "plan", "--detailed-exitcode", "bad.yaml")
    assert run.returncode == 1
    assert "bad.yaml:2:7" in run.stderr
    assert "Traceback" not in run.stderr


def test_bad_var_option_exits_1_not_2(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(GOOD)
    run = runner(tmp_path, "plan", "--detailed-exitcode", "--var", "novalue", "web.yaml")
    assert run.returncode == 1
    assert "NAME=VALUE" in run.stderr


@pytest.mark.integration
def test_json_output_is_a_plan_then_events_then_a_result(
    cli: Any, names: dict[str, str], test_image: str, spec: Any, cleanup: list[Path]
) -> None:
    cleanup.append(spec("single"))
    args = cli.spec_args(spec("single"), image=test_image, **names)

    plan = json.loads(cli("plan", "--output", "json", *args).expect(0).out)
    assert plan["format_version"] == "1.0"
    assert plan["workspace"] == cli.workspace
    actions = {c["address"]: c["action"] for c in plan["changes"]}
    assert actions[f"ContainerGroup/{names['rg']}/{names['name']}"] == "create"

    lines = cli("apply", "--yes", "--output", "json", *args).expect(0).out.splitlines()
    docs = [json.loads(line) for line in lines]
    assert docs[0]["type"] == "plan"
    assert docs[-1]["type"] == "result" and docs[-1]["ok"] is True
    kinds = {d["type"] for d in docs[1:-1]}
    assert {"StepStarted", "StepFinished", "RunSummary"} <= kinds

    rows = json.loads(cli("status", "--output", "json", "--workspace", cli.workspace).out)
    assert [r["address"] for r in rows] == [f"ContainerGroup/{names['rg']}/{names['name']}"]


def test_importing_the_cli_loads_no_sdk_renderer_or_models() -> None:
    # `runner --help` stays fast: command bodies import these when they run.
    code = (
        "import sys, runner.cli; print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'azure', 'docker', 'rich', 'pydantic', 'yaml', 'jinja2'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
