"""How dependencies and a merge task look on the wire: the mapped tasks' dependsOn and
exit conditions, the merge's dependsOn and its resource files, read SAS URLs of the
blobs its dependencies write to the output container."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from runner.backends import batch_tasks as bt
from runner.backends.sas import sas_expiry, signer_for
from runner.engine.inputs import desired_from_files
from runner.spec.models import BatchJob

pytestmark = pytest.mark.integration


@pytest.fixture
def target(emulator: dict[str, Any]) -> Any:
    from runner.backends.target import local_target

    return local_target(emulator)


def _spec() -> BatchJob:
    return BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": "wire",
            "pool": {"id": "wire-pool"},
            "job": {"id": "wire-job"},
            "tasks": {
                "forEachFile": "*.txt",
                "id": "t-{{ file.stem }}",
                "command": "wc -w < {{ file.name }} > {{ file.stem }}.count",
                "outputs": ["{{ file.stem }}.count"],
                "dependsOn": {"taskIds": ["{% if file.stem == 'b' %}t-a{% endif %}"]},
                "dependencyAction": "satisfy",
            },
            "merge": {"id": "total", "command": "cat {{ inputs | join(' ') }}"},
            "collect": {"dir": "out"},
        }
    )


def test_dependencies_and_merge_inputs_on_the_wire(target, tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("x y\n")
    desired = desired_from_files(_spec(), tmp_path)
    sign = signer_for(
        target.blob_service("local"),
        target.storage_account_key("local"),
        sas_expiry(timedelta(minutes=5)),
    )
    out_url = sign.write_container("wire-output")
    forms = {
        t.id: bt.task_options(t, desired.spec.tasks, sign, out_url, "wire-output").as_dict()
        for t in desired.tasks
    }

    assert "dependsOn" not in forms["t-a"]
    assert forms["t-b"]["dependsOn"] == {"taskIds": ["t-a"]}
    assert forms["t-a"]["exitConditions"] == {"default": {"dependencyAction": "satisfy"}}
    merge = forms["total"]
    assert merge["dependsOn"] == {"taskIds": ["t-a", "t-b"]}
    assert merge["commandLine"] == "/bin/sh -c 'cat t-a/a.count t-b/b.count'"
    paths = [urlparse(r["httpUrl"]).path for r in merge["resourceFiles"]]
    assert [p.split("/", 2)[2] for p in paths] == [
        "wire-output/t-a/a.count",
        "wire-output/t-b/b.count",
    ]
    assert [r["filePath"] for r in merge["resourceFiles"]] == ["t-a/a.count", "t-b/b.count"]
    assert all("sig=" in r["httpUrl"] for r in merge["resourceFiles"])
    assert "sig=" not in merge["commandLine"]
    assert desired.job["usesTaskDependencies"] is True
