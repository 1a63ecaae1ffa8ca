"""JSON Schemas of the spec language, generated from the models and committed in ``schemas/``.

``runner.schema.json`` takes any spec document: one of the kinds (picked by ``kind``) or a
file in the ``az container create --file`` format. Editors use it through the
``# yaml-language-server: $schema=...`` line at the top of each spec.
"""

from __future__ import annotations

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


def _schema(annotation: Any, title: str) -> dict[str, Any]:
    body = TypeAdapter(annotation).json_schema(by_alias=True, mode="validation")
    return {"$schema": DRAFT, "title": title, **body}


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every file ``runner schema`` writes."""
    union = TypeAdapter(cast(Any, Spec)).json_schema(by_alias=True, mode="validation")
    defs = union.pop("$defs", {})
    defs["AzContainerGroupFile"] = AZ_FILE_SCHEMA
    return {
        UNION_FILE: {
            "$schema": DRAFT,
            "title": "runner spec",
            "description": "A runner spec document: kind ContainerGroup or BatchJob, "
            "or a file in the az container create --file format.",
            "anyOf": [union, {"$ref": "#/$defs/AzContainerGroupFile"}],
            "$defs": defs,
        },
        "containergroup.schema.json": _schema(ContainerGroup, "runner ContainerGroup"),
        "batchjob.schema.json": _schema(BatchJob, "runner BatchJob"),
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
