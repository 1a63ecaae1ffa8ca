"""Rules checked when a spec loads, before anything is created: numbers are not booleans,
variables may build on each other, environment names are ones Azure takes, a Batch task
id template can only make valid ids."""

from __future__ import annotations

import types
import typing
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from runner.errors import SpecError
from runner.spec import models
from runner.spec.base import Model
from runner.spec.loader import load_text
from runner.spec.messages import explain
from runner.spec.models import ContainerGroup


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
