"""Valid workflows: steps inline (a container group, a Batch job keeping its per-task
templates) and referring to a file with its vars overridden, their needs and hand-offs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.spec.files import raise_file_problems
from runner.spec.loader import LoadedStep, load_specs, load_text
from runner.spec.models import BatchJob, ContainerGroup, Workflow

WORKFLOWS = Path(__file__).parent / "workflows"
UNSET = "RUNNER_TEST_SURELY_UNSET"


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> dict[str, LoadedStep]:
    monkeypatch.delenv(UNSET, raising=False)
    (loaded,) = load_specs([WORKFLOWS / "good.yaml"])
    assert isinstance(loaded.spec, Workflow)
    assert loaded.spec.name == "wf-good"
    return {step.name: step for step in loaded.steps}


def test_steps_keep_their_order_and_needs_include_those_from_inputs(
    steps: dict[str, LoadedStep],
) -> None:
    assert list(steps) == ["lower", "count", "again"]
    assert steps["lower"].needs == ()
    assert steps["count"].needs == ("lower",)
    # Named (count) and implied (lower, count), in step order, once each.
    assert steps["again"].needs == ("lower", "count")
    assert [s.field_path for s in steps.values()] == ["steps.lower", "steps.count", "steps.again"]


def test_an_inline_group_is_a_container_group_named_after_workflow_and_step(
    steps: dict[str, LoadedStep],
) -> None:
    lower = steps["lower"]
    spec = lower.loaded.spec
    assert isinstance(spec, ContainerGroup)
    assert spec.name == "wf-good-lower"
    assert spec.containers[0].image == "busybox:1"
    assert spec.restart_policy == "Never"
    assert lower.loaded.path == WORKFLOWS / "good.yaml"
    assert lower.base_dir == WORKFLOWS.resolve()
    assert lower.reference is None
    assert lower.inputs["texts"].files == "texts/*.txt"
    assert lower.inputs["texts"].from_ is None
    assert lower.outputs == {"lowered": "*.txt"}
    assert lower.collect is None


def test_an_inline_batch_keeps_its_per_task_templates_and_the_workflow_storage(
    steps: dict[str, LoadedStep],
) -> None:
    spec = steps["again"].loaded.spec
    assert isinstance(spec, BatchJob)
    assert spec.name == "wf-good-again"
    assert spec.tasks.id == "again-{{ file.stem }}"
    assert spec.tasks.command == "cp {{ file.name }} {{ file.stem }}_AGAIN.txt # 5"
    assert spec.tasks.outputs == ["{{ file.stem }}_AGAIN.txt"]
    assert spec.storage.account == "local"
    assert spec.collect is None
    # Per-task rendering later sees the workflow's vars.
    assert spec.vars["top"] == 5


def test_a_step_collect_defaults_to_every_output_and_keeps_globs_given(
    steps: dict[str, LoadedStep],
) -> None:
    count, again = steps["count"].collect, steps["again"].collect
    assert count is not None and again is not None
    assert (count.dir, count.outputs) == ("out/wf-good/count", ["TOTAL_OUTPUT.txt"])
    assert (again.dir, again.outputs) == ("out/wf-good/again", ["a_*"])


def test_a_referenced_file_is_loaded_with_the_step_vars_over_its_own(
    steps: dict[str, LoadedStep],
) -> None:
    count = steps["count"]
    spec = count.loaded.spec
    assert isinstance(spec, BatchJob)
    assert count.reference == "corpus.yaml"
    assert count.loaded.path == WORKFLOWS / "corpus.yaml"
    assert spec.name == "wf-corpus"
    # Step vars are rendered with the workflow's vars first; the file's other defaults stay.
    assert spec.vars == {"inputs": "*.txt", "top": "5", "out": "out/wf-corpus"}
    assert spec.tasks.for_each_file == "*.txt"
    assert spec.tasks.command.endswith("echo top 5")
    assert count.inputs["texts"].from_ == "lower.lowered"
    assert (count.inputs["texts"].step, count.inputs["texts"].output) == ("lower", "lowered")


def test_problems_found_later_are_located_where_each_step_is_written(
    steps: dict[str, LoadedStep],
) -> None:
    inline = steps["again"].loaded.error("no such thing", "tasks.command")
    (d,) = inline.diagnostics
    assert d.span is not None
    assert (d.span.file, d.span.line) == (str(WORKFLOWS / "good.yaml"), 43)
    assert d.field_path == "steps.again.batch.tasks.command"
    group = steps["lower"].loaded.error("no such thing", "containers[0].image")
    assert group.diagnostics[0].field_path == "steps.lower.group.containers[0].image"
    assert group.diagnostics[0].span is not None and group.diagnostics[0].span.line == 18
    referenced = steps["count"].loaded.error("no such thing", "tasks.command")
    (r,) = referenced.diagnostics
    assert r.span is not None
    assert (r.span.file, r.span.line, r.field_path) == (
        str(WORKFLOWS / "corpus.yaml"),
        15,
        "tasks.command",
    )


def test_workflow_vars_from_the_command_line_reach_inline_steps_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    (loaded,) = load_specs([WORKFLOWS / "good.yaml"], variables={"top": "9", "out": "o"})
    by_name = {s.name: s for s in loaded.steps}
    again, count = by_name["again"].loaded.spec, by_name["count"].loaded.spec
    assert isinstance(again, BatchJob) and isinstance(count, BatchJob)
    assert again.tasks.command.endswith("# 9")
    # The step passes top on; the file's own out stays its default.
    assert count.vars["top"] == "9" and count.vars["out"] == "out/wf-corpus"
    assert by_name["count"].collect is not None and by_name["count"].collect.dir == "o/count"


def test_file_checks_of_a_workflow_pass_for_local_inputs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    raise_file_problems(load_specs([WORKFLOWS / "good.yaml"]), cwd=tmp_path)


def test_file_checks_locate_an_input_glob_that_matches_nothing(tmp_path: Path) -> None:
    text = (WORKFLOWS / "good.yaml").read_text(encoding="utf-8")
    specs = load_text(text, str(WORKFLOWS / "good.yaml"), {"inputs": "none/*.txt"})
    with pytest.raises(SpecError) as info:
        raise_file_problems(specs, cwd=tmp_path)
    (d,) = info.value.diagnostics
    assert d.field_path == "steps.lower.inputs.texts.files"
    assert d.summary.startswith("input 'texts': 'none/*.txt' matches no files under ")
    assert d.span is not None and d.span.line == 21


def test_validate_prints_one_line_for_the_workflow_and_its_steps() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "runner", "validate", "good.yaml"],
        capture_output=True,
        text=True,
        cwd=WORKFLOWS,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ok  good.yaml: workflow wf-good: 3 steps (lower: container group, "
        "count: Batch job from corpus.yaml, again: Batch job)",
        "1 spec in 1 file: valid",
    ]


def test_a_referenced_file_problem_is_located_in_that_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = Path(__file__).parent / "bad"
    monkeypatch.chdir(bad)
    text = "kind: Workflow\nname: workflow\nsteps:\n  count:\n    spec: steps/bad_pool.yaml\n"
    with pytest.raises(SpecError) as info:
        load_text(text, "workflow.yaml", {})
    (d,) = info.value.diagnostics
    assert d.span is not None
    assert (d.span.file, d.span.line, d.span.col) == ("steps/bad_pool.yaml", 7, 7)
    assert d.field_path == "pool.id"
    assert d.summary == "Batch ids are 1-64 letters, digits, '-' and '_'"
    assert "steps/bad_pool.yaml" in info.value.sources


def test_step_vars_override_a_referenced_file_but_not_its_other_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(Path(__file__).parent / "bad")
    text = (
        "kind: Workflow\nname: workflow\nsteps:\n  count:\n    spec: steps/bad_pool.yaml\n"
        "    vars: {nodes: 'two'}\n"
    )
    with pytest.raises(SpecError) as info:
        load_text(text, "workflow.yaml", {})
    located = {
        (d.span.file if d.span else "", d.field_path, d.summary) for d in info.value.diagnostics
    }
    assert ("steps/bad_pool.yaml", "pool.nodes", "expected a whole number, got 'two'") in located


def test_workflow_files_pass_the_committed_schema_and_bad_bodies_do_not() -> None:
    import json

    from jsonschema import Draft202012Validator

    from runner.spec.positions import parse_documents

    root = Path(__file__).resolve().parents[2]
    schema = json.loads((root / "schemas" / "runner.schema.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    (doc,) = parse_documents((WORKFLOWS / "good.yaml").read_text(encoding="utf-8"))
    assert [e.message for e in validator.iter_errors(doc.data)] == []
    step = {"group": {"resourceGroup": "rg", "containers": [{"name": "a", "image": "x"}]}}
    assert validator.is_valid({"kind": "Workflow", "name": "wf-ok", "steps": {"one": step}})
    unknown = {"group": {**step["group"], "colour": "blue"}}
    assert not validator.is_valid({"kind": "Workflow", "name": "wf-ok", "steps": {"one": unknown}})
    assert not validator.is_valid({"kind": "Workflow", "name": "wf-ok", "steps": {"One": step}})
