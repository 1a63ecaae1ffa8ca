"""pydantic errors in a reader's words, keyed on the error ``type`` (never on its English text).

Each error becomes a message, the path of the value it is about and whether to point at the
key (unknown field) rather than the value.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from runner.spec.models import BatchJob, ContainerGroup, Workflow

KINDS: dict[str, type[BaseModel]] = {
    "ContainerGroup": ContainerGroup,
    "BatchJob": BatchJob,
    "Workflow": Workflow,
}

# Limits that come from Azure, named so the reader knows whom to blame.
LIMIT_HINTS = {
    "cpu": "ACI's limit per container",
    "memoryInGB": "ACI's limit per container, in GB",
    "containers": "ACI's limit per container group",
}


@dataclass(frozen=True)
class Located:
    message: str
    loc: tuple[str | int, ...]
    at_key: bool = False
    point: tuple[str | int, ...] | None = None  # where to point, when not at ``loc``


def explain(error: ErrorDetails) -> Located:
    loc: tuple[str | int, ...] = tuple(error["loc"])
    model: type[BaseModel] | None = None
    if loc and loc[0] in KINDS:
        model = KINDS[str(loc[0])]
        loc = loc[1:]
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if loc and loc[-1] == "[key]":
        # pydantic's location for a mapping key that is itself wrong: point at the key.
        located = explain({**error, "loc": error["loc"][:-1]})
        return Located(located.message, located.loc, at_key=True, point=located.point)
    value = error.get("input")
    name = str(loc[-1]) if loc else ""

    if kind == "spec_rule":
        return Located(error["msg"], loc + tuple(ctx.get("at", ())))
    if kind == "missing":
        return Located(f"missing required field '{name}'", loc, at_key=True, point=loc[:-1])
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc[:-1]) if model else []
        return Located(f"unknown field '{name}'{_suggest(name, allowed)}", loc, at_key=True)
    if kind == "union_tag_not_found":
        return Located(
            "missing 'kind': say what this document is "
            "(kind: ContainerGroup, kind: BatchJob or kind: Workflow)",
            (),
        )
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag"))
        hint = _suggest(tag, list(KINDS), "; expected ContainerGroup, BatchJob or Workflow")
        return Located(f"unknown kind '{tag}'{hint}", ("kind",))
    if kind == "literal_error":
        return Located(f"expected {ctx.get('expected')}, got {_show(value)}", loc)
    message = _by_type(kind, ctx, value, name) or error["msg"]
    return Located(message, loc)


def _by_type(kind: str, ctx: dict[str, Any], value: Any, name: str) -> str | None:
    got = _show(value)
    hint = f" ({LIMIT_HINTS[name]})" if name in LIMIT_HINTS else ""
    simple = {
        "string_type": f"expected a string, got {got}",
        "int_type": f"expected a whole number, got {got}",
        "int_parsing": f"expected a whole number, got {got}",
        "int_from_float": f"expected a whole number, got {got}",
        "float_type": f"expected a number, got {got}",
        "bool_as_number": f"expected {ctx.get('expected')}, got {got}",
        "float_parsing": f"expected a number, got {got}",
        "bool_type": f"expected true or false, got {got}",
        "bool_parsing": f"expected true or false, got {got}",
        "list_type": f"expected a list, got {got}",
        "dict_type": f"expected a mapping (key: value), got {got}",
        "model_type": f"expected a mapping (key: value), got {got}",
        "model_attributes_type": f"expected a mapping (key: value), got {got}",
        "string_pattern_mismatch": f"does not match the pattern {ctx.get('pattern')}",
    }
    if kind in simple:
        return simple[kind]
    if kind == "greater_than":
        return f"must be greater than {_num(ctx.get('gt'))}, got {got}"
    if kind == "greater_than_equal":
        return f"must be at least {_num(ctx.get('ge'))}, got {got}"
    if kind == "less_than_equal":
        return f"must be at most {_num(ctx.get('le'))}{hint}, got {got}"
    if kind == "less_than":
        return f"must be less than {_num(ctx.get('lt'))}{hint}, got {got}"
    if kind == "too_short":
        n = ctx.get("min_length")
        return f"needs at least {n} item{'' if n == 1 else 's'}, got {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"takes at most {ctx.get('max_length')} items{hint}, got {ctx.get('actual_length')}"
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return "must not be empty"
        return f"needs at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"takes at most {ctx.get('max_length')} characters"
    if kind == "value_error":
        return str(ctx.get("error", "invalid value"))
    return None


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if isinstance(value, str) else _num(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _suggest(name: str, allowed: list[str], fallback: str | None = None) -> str:
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    if fallback is not None:
        return fallback
    return f"; allowed here: {', '.join(allowed)}" if allowed else ""


def _allowed_fields(model: type[BaseModel], path: tuple[str | int, ...]) -> list[str]:
    """The field names (as written in YAML) of the model found at ``path``."""
    current: Any = model
    for part in path:
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(part, int) and origin is list:
            current = typing.get_args(current)[0]
        elif origin is dict:
            current = typing.get_args(current)[1]
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for n, f in current.model_fields.items() if (f.alias or n) == part), None
            )
            if field is None:
                return []
            current = field.annotation
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to the one type that matters."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation
