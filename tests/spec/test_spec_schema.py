"""The committed JSON Schemas match the models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from runner.spec.schema import UNION_FILE, schemas, stale_files, write_schemas

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schemas_are_up_to_date() -> None:
    stale = stale_files(ROOT / "schemas")
    assert stale == [], f"stale schemas: {stale}; run `runner schema` and commit schemas/"


def test_schema_check_detects_a_stale_file(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    assert stale_files(tmp_path) == []
    (tmp_path / "batchjob.schema.json").write_text("{}\n")
    assert stale_files(tmp_path) == ["batchjob.schema.json"]
    check = [sys.executable, "-m", "runner", "schema", "--check", "--dir", str(tmp_path)]
    result = subprocess.run(check, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "batchjob.schema.json" in result.stderr
    subprocess.run(check[:-3] + ["--dir", str(tmp_path)], check=True, capture_output=True)
    assert subprocess.run(check, capture_output=True, timeout=60).returncode == 0


def test_union_schema_picks_the_model_by_kind_and_accepts_az_files() -> None:
    union = schemas()[UNION_FILE]
    kinds, az = union["anyOf"]
    assert kinds["discriminator"]["propertyName"] == "kind"
    assert set(kinds["discriminator"]["mapping"]) == {"ContainerGroup", "BatchJob", "Workflow"}
    assert az == {"$ref": "#/$defs/AzContainerGroupFile"}
    group = union["$defs"]["ContainerGroup"]
    assert group["additionalProperties"] is False
    assert "resourceGroup" in group["required"]
    container = union["$defs"]["Container"]
    assert container["properties"]["cpu"]["maximum"] == 4.0
    json.dumps(union)  # serialisable as committed


def _documents(path: Path) -> list[object]:
    """The documents as an editor's YAML 1.2 parser sees them (dates stay strings)."""
    from runner.spec.positions import parse_documents

    return [doc.data for doc in parse_documents(path.read_text(encoding="utf-8"))]


def test_example_specs_pass_the_committed_schema_as_editors_check_it() -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads((ROOT / "schemas" / UNION_FILE).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    examples = sorted((ROOT / "specs").rglob("*.yaml"))
    assert examples
    for path in examples:
        for document in _documents(path):
            errors = [e.message for e in validator.iter_errors(document)]
            assert errors == [], f"{path}: {errors}"
    too_big = {
        "kind": "ContainerGroup",
        "name": "web",
        "resourceGroup": "rg",
        "containers": [{"name": "app", "image": "nginx", "cpu": 100}],
    }
    assert not validator.is_valid(too_big)
    assert not validator.is_valid({"kind": "ContainerGroup", "name": "web", "colour": "blue"})
