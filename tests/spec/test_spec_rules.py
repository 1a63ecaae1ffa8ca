"""Rules checked when a spec loads, before anything is created: numbers are not booleans,
variables may build on each other, environment names are ones Azure takes, a Batch task
id template can only make valid ids."""

from __future__ import annotations

import os
import subprocess
import sys
import types
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from runner.errors import Diagnostic, SpecError
from runner.spec import models
from runner.spec.base import Model
from runner.spec.files import check_files
from runner.spec.loader import load_specs, load_text
from runner.spec.messages import explain
from runner.spec.models import BatchJob, ContainerGroup


def _numeric_fields() -> list[tuple[type[Model], str]]:
    found = []
    for name in models.__all__:
        model = getattr(models, name)
        if not (isinstance(model, type) and issubclass(model, Model)) or model is Model:
            continue
        for field_name, info in model.model_fields.items():
            if _takes_a_number(info.annotation):
                found.append((model, info.alias or field_name))
    return found


def _takes_a_number(annotation: Any) -> bool:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_takes_a_number(a) for a in typing.get_args(annotation))
    return annotation in (int, float, timedelta)


NUMERIC_FIELDS = _numeric_fields()


def test_every_number_field_of_the_models_is_found() -> None:
    names = {f"{model.__name__}.{field}" for model, field in NUMERIC_FIELDS}
    assert {"Container.cpu", "Container.memoryInGB", "Port.port", "Pool.nodes"} <= names
    assert {"TaskFactory.maxWallClockTime", "BatchJob.timeout"} <= names


@pytest.mark.parametrize(
    ("model", "field"), NUMERIC_FIELDS, ids=[f"{m.__name__}.{f}" for m, f in NUMERIC_FIELDS]
)
@pytest.mark.parametrize("value", [True, False])
def test_no_number_field_takes_a_boolean(model: type[Model], field: str, value: bool) -> None:
    def errors_at_field(given: Any) -> list[Any]:
        try:
            model.model_validate({field: given})
        except ValidationError as exc:
            return [e for e in exc.errors() if e["loc"][:1] == (field,)]
        return []

    assert errors_at_field(1) == []
    (error,) = errors_at_field(value)
    assert "got " + str(value).lower() in explain(error).message


CHAIN = """\
kind: ContainerGroup
name: web
resourceGroup: demo
containers:
  - name: web
    image: "{{ vars.image }}"
vars:
  image: "{{ vars.repo }}:{{ vars.tag }}"
  repo: "{{ vars.registry }}/web"
  registry: "{{ env('RUNNER_TEST_SURELY_UNSET', 'example.azurecr.io') }}"
  tag: "1"
"""


def _group(text: str, **overrides: Any) -> ContainerGroup:
    (loaded,) = load_text(text, "chain.yaml", overrides)
    assert isinstance(loaded.spec, ContainerGroup)
    return loaded.spec


def test_a_chain_of_variables_renders_to_the_end() -> None:
    spec = _group(CHAIN)
    assert spec.containers[0].image == "example.azurecr.io/web:1"
    assert spec.vars["repo"] == "example.azurecr.io/web"


def test_an_overridden_variable_is_what_the_chain_sees() -> None:
    assert _group(CHAIN, registry="mine.io").containers[0].image == "mine.io/web:1"
    # The default of an overridden variable is not rendered: its unset env() is no error.
    text = CHAIN.replace("'example.azurecr.io'", "")
    assert _group(text, registry="mine.io").vars["registry"] == "mine.io"


def test_each_variable_is_rendered_once() -> None:
    # A value that renders to template text is text: the chain does not run it again.
    text = CHAIN.replace('tag: "1"', "tag: \"{{ '{{ x }}' }}\"")
    assert _group(text).vars["image"] == "example.azurecr.io/web:{{ x }}"


def test_a_cycle_of_variables_is_located_and_named() -> None:
    text = CHAIN.replace('tag: "1"', 'tag: "{{ vars.image }}"')
    with pytest.raises(SpecError) as info:
        load_text(text, "chain.yaml")
    (problem,) = info.value.diagnostics
    assert problem.summary == "variables refer to each other in a cycle: image -> tag -> image"
    assert problem.span is not None
    assert (problem.span.line, problem.span.col) == (8, 27)  # at {{ vars.tag }}
    assert problem.field_path == "vars.image"


JOB = """\
kind: BatchJob
name: words
pool: {{id: words-pool}}
job: {{id: words-job}}
tasks:
  forEachFile: "in/*"
  id: "{task_id}"
  command: "cat {{{{ file.name }}}}"
collect: {{dir: out/words}}
vars: {{prefix: words}}
"""


def _job_problem(task_id: str) -> Diagnostic:
    with pytest.raises(SpecError) as info:
        load_text(JOB.format(task_id=task_id), "job.yaml")
    (problem,) = info.value.diagnostics
    assert problem.field_path == "tasks.id"
    assert problem.span is not None and (problem.span.line, problem.span.col) == (7, 7)
    return problem


def test_a_task_id_template_whose_own_text_cannot_be_an_id_is_refused_at_load() -> None:
    problem = _job_problem("bad id {{ file.stem }}")
    assert "the text around the id's {{ }} expressions holds ' '" in problem.summary
    problem = _job_problem("t:{{ file.stem }}/{{ file.suffix }}")
    assert "holds '/', ':'" in problem.summary
    problem = _job_problem("{{ vars.prefix * 13 }}-{{ file.stem }}")
    assert "at most 64 characters" in problem.summary
    assert "already has 66" in problem.summary
    assert "task ids are 1-64" in _job_problem("no file at all").summary


@pytest.mark.parametrize(
    "task_id",
    ["t-{{ file.stem }}", "{{ vars.prefix }}_{{ file.stem | lower }}", "{{ file.stem }}"],
)
def test_task_id_templates_that_can_make_ids_load(task_id: str) -> None:
    (loaded,) = load_text(JOB.format(task_id=task_id), "job.yaml")
    assert isinstance(loaded.spec, BatchJob)


def _inputs(tmp_path: Path, task_id: str, *names: str) -> Path:
    (tmp_path / "in").mkdir()
    for name in names:
        (tmp_path / "in" / name).write_text("words\n")
    spec = tmp_path / "job.yaml"
    spec.write_text(JOB.format(task_id=task_id))
    return spec


@pytest.mark.parametrize(
    ("task_id", "names", "message"),
    [
        (
            "t-{{ file.stem }}",
            ["fine.txt", "my notes.txt"],
            "task id 't-my notes' (from in/my notes.txt) is not a Batch id: 1-64 letters, "
            "digits, '-' and '_', and it holds ' '",
        ),
        (
            "t-{{ file.name }}",
            ["a.txt", "b.txt", "c.txt"],
            "task id 't-a.txt' (from in/a.txt) is not a Batch id: 1-64 letters, digits, '-' "
            "and '_', and it holds '.' (and 2 more input files)",
        ),
        (
            "{{ vars.prefix }}-{{ file.stem }}",
            ["x" * 60 + ".txt"],
            "task id 'words-" + "x" * 60 + "' (from in/" + "x" * 60 + ".txt) is not a Batch "
            "id: 1-64 letters, digits, '-' and '_', and it has 66 characters",
        ),
        (
            "t-{{ file.stem }}",
            ["Report.txt", "report.csv"],
            "task id 't-report' is made for both in/Report.txt and in/report.csv: the ids of "
            "a job's tasks must differ (Batch ignores case)",
        ),
    ],
    ids=["space", "dots", "too-long", "same-but-case"],
)
def test_each_task_id_the_input_files_give_is_checked_before_planning(
    tmp_path: Path, task_id: str, names: list[str], message: str
) -> None:
    spec = _inputs(tmp_path, task_id, *names)
    (loaded,) = load_specs([spec])
    (problem,) = check_files(loaded, cwd=tmp_path)
    assert problem.summary == message
    assert problem.field_path == "tasks.id"
    assert problem.span is not None and (problem.span.line, problem.span.col) == (7, 7)

    for command in ("validate", "plan"):
        run = subprocess.run(
            [sys.executable, "-m", "runner", command, "job.yaml"],
            cwd=tmp_path,
            env={**os.environ, "RUNNER_LOCAL_DIR": str(tmp_path / "no-target")},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 1, run.stderr
        assert run.stderr.startswith(f"job.yaml:7:7: error: {message} [tasks.id]"), run.stderr
        assert not (tmp_path / "no-target").exists()


def test_input_files_that_give_good_ids_pass(tmp_path: Path) -> None:
    spec = _inputs(tmp_path, "t-{{ file.stem }}", "a.txt", "b.txt", "long_name-2.txt")
    (loaded,) = load_specs([spec])
    assert check_files(loaded, cwd=tmp_path) == []
