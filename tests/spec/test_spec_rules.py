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

from runner.spec import models
from runner.spec.base import Model
from runner.spec.messages import explain


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
