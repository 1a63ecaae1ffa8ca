"""JSON Schemas of the spec language, generated from the models and committed in ``schemas/``.

``runner.schema.json`` takes any spec document: one of the kinds (picked by ``kind``) or a
file in the ``az container create --file`` format. Editors use it through the
``# yaml-language-server: $schema=...`` line at the top of each spec.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, cast

from pydantic import TypeAdapter

from runner.spec.azfile import ACI_TYPE
from runner.spec.models import BatchJob, ContainerGroup, Spec

DRAFT = "https://json-schema.org/draft/2020-12/schema"
UNION_FILE = "runner.schema.json"

# Loose on purpose: az's format is Azure's, documented by Microsoft; runner checks it fully
# when loading, and editors only need to accept such files.
AZ_FILE_SCHEMA: dict[str, Any] = {
    "title": "az container create --file",
    "description": "Read as az reads it: literally, with no templating.",
    "type": "object",
    "required": ["properties"],
    "properties": {
        "apiVersion": {"type": "string"},
        "location": {"type": "string"},
        "name": {"type": "string"},
        "type": {"const": ACI_TYPE},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "properties": {
            "type": "object",
            "required": ["containers"],
            "properties": {"containers": {"type": "array", "minItems": 1}},
        },
    },
    "not": {"required": ["kind"]},
}


# A workflow's inline step body: the kind's fields but these, which the workflow gives
# (kind, vars), defaults (name) or keeps on the step (collect).
INLINE_BODIES = {
    "group": ("ContainerGroup", "StepContainerGroup"),
    "batch": ("BatchJob", "StepBatchJob"),
}
_NOT_INLINE = ("kind", "vars", "collect")


def _schema(annotation: Any, title: str) -> dict[str, Any]:
    body = TypeAdapter(annotation).json_schema(by_alias=True, mode="validation")
    if annotation is BatchJob:
        _require_collect(body)
    return {"$schema": DRAFT, "title": title, **body}


def _require_collect(batch: dict[str, Any]) -> None:
    """A BatchJob document says where its outputs go (the model leaves it optional for a
    workflow step, whose collect replaces it)."""
    batch["properties"]["collect"] = {"$ref": "#/$defs/BatchCollect"}
    order = list(batch["properties"])
    batch["required"] = sorted({*batch.get("required", []), "collect"}, key=order.index)


def _with_inline_steps(defs: dict[str, Any]) -> None:
    """A step's ``group:`` and ``batch:`` are its kind's fields without kind, vars and
    collect, and name unrequired: editors complete them as the kind."""
    step = defs["Step"]["properties"]
    for field, (kind, name) in INLINE_BODIES.items():
        body = copy.deepcopy(defs[kind])
        body["title"] = f"{kind} of a workflow step"
        for key in _NOT_INLINE:
            body["properties"].pop(key, None)
        body["required"] = [r for r in body.get("required", []) if r not in (*_NOT_INLINE, "name")]
        defs[name] = body
        step[field] = {"anyOf": [{"$ref": f"#/$defs/{name}"}, {"type": "null"}], "default": None}


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every file ``runner schema`` writes."""
    union = TypeAdapter(cast(Any, Spec)).json_schema(by_alias=True, mode="validation")
    defs = union.pop("$defs", {})
    _with_inline_steps(defs)
    _require_collect(defs["BatchJob"])
    workflow = {"$schema": DRAFT, "title": "runner Workflow", **copy.deepcopy(defs["Workflow"])}
    workflow["$defs"] = {k: v for k, v in copy.deepcopy(defs).items() if k != "Workflow"}
    defs["AzContainerGroupFile"] = AZ_FILE_SCHEMA
    return {
        UNION_FILE: {
            "$schema": DRAFT,
            "title": "runner spec",
            "description": "A runner spec document: kind ContainerGroup, BatchJob or "
            "Workflow, or a file in the az container create --file format.",
            "anyOf": [union, {"$ref": "#/$defs/AzContainerGroupFile"}],
            "$defs": defs,
        },
        "containergroup.schema.json": _schema(ContainerGroup, "runner ContainerGroup"),
        "batchjob.schema.json": _schema(BatchJob, "runner BatchJob"),
        "workflow.schema.json": workflow,
    }


def render_schema(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def stale_files(directory: Path) -> list[str]:
    """Names of the schema files in ``directory`` that are missing or differ."""
    return [
        name
        for name, schema in schemas().items()
        if not (directory / name).is_file()
        or (directory / name).read_text(encoding="utf-8") != render_schema(schema)
    ]


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = directory / name
        path.write_text(render_schema(schema), encoding="utf-8")
        written.append(path)
    return written
