"""Outputs download while other tasks still run: a job whose second task waits until the
first task's output has landed in the local collect folder, and fails if it never does.
Only a collect that streams, during the wait, lets it succeed."""

from __future__ import annotations

import pytest
import yaml
from topwords_helpers import result_of

pytestmark = pytest.mark.integration


def test_a_completed_tasks_outputs_are_collected_while_another_runs(cli, unique_name) -> None:
    name = unique_name("stream")
    inputs = cli.cwd / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text("first\n")
    (inputs / "b.txt").write_text("second\n")
    out = cli.cwd / "out" / name
    # Task b runs on the same machine as the local target: it can see the collect folder.
    landed = out / "a.out"
    command = (
        "{% if file.stem == 'a' %}cp {{ file.name }} a.out"
        "{% else %}i=0; while [ ! -f " + str(landed) + " ] && [ $i -lt 300 ]; do "
        "sleep 0.1; i=$((i+1)); done; test -f " + str(landed) + " && cp {{ file.name }} b.out"
        "{% endif %}"
    )
    spec = {
        "kind": "BatchJob",
        "name": name,
        "pool": {"id": f"{name}-pool", "nodes": 2},
        "job": {"id": f"{name}-job"},
        "tasks": {
            "forEachFile": "in/*.txt",
            "id": "copy-{{ file.stem }}",
            "command": command,
            "outputs": ["{{ file.stem }}.out"],
        },
        "timeout": "5m",
        "collect": {"dir": f"out/{name}"},
    }
    path = cli.cwd / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))

    run = cli("apply", *cli.spec_args(path), "--yes", "--output", "json").expect(0)

    counts = result_of(run.out)["counts"]
    assert (counts["succeeded"], counts["failed"]) == (2, 0)
    assert (out / "a.out").read_text() == "first\n"
    assert (out / "b.out").read_text() == "second\n"
