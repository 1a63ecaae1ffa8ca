"""A BatchJob on autoscaled low-priority nodes, one of them preempted while it runs a
task: the task goes back to the queue, runs again once the node is back, and apply ends
with every output, as on Azure when spot capacity is reclaimed mid-run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from topwords_helpers import json_lines, read_report, reference_top, result_of, write_spec

pytestmark = pytest.mark.integration

TEXTS = {"alpha.txt": "one two two three three three\n", "beta.txt": "x y y z z z z\n"}


def spot_spec(folder: Path, name: str) -> Path:
    spec = write_spec(folder, name, texts=TEXTS, timeout="2m")
    data = yaml.safe_load(spec.read_text())
    del data["pool"]["nodes"]
    data["pool"]["autoScale"] = {"max": 2, "lowPriority": True}
    # Long enough to be preempted half a second in.
    data["tasks"]["command"] = "sleep 1 && " + data["tasks"]["command"]
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    return spec


def test_a_preempted_spot_node_s_task_runs_again_and_apply_ends_with_every_output(
    cli, faults, unique_name, tmp_path
) -> None:
    name = unique_name("tw-spot")
    spec = spot_spec(tmp_path / "spec", name)
    faults.set([{"fault": "preempt", "route": f"/pools/{name}-pool/", "count": 1, "after": 0.5}])

    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json", timeout=120)
    run.expect(0)

    (preempt,) = [r for r in _rules(faults) if r["fault"] == "preempt"]
    assert preempt["hits"] == 1  # a node was preempted while it ran a task
    result = result_of(run.out)
    assert result["counts"]["succeeded"] == len(TEXTS)
    assert result["counts"]["failed"] == 0
    out = cli.cwd / "out" / name
    for file_name in TEXTS:
        stem = Path(file_name).stem
        words, footer = read_report(out / f"{stem}_OUTPUT.txt")
        assert words == reference_top(tmp_path / "spec" / "topwords" / file_name, 3)
        assert footer["Pool"] == f"{name}-pool"
    pool = next(
        c
        for line in json_lines(run.out)
        if line.get("type") == "plan"
        for c in line["plan"]["changes"]
        if c["address"].endswith(f"/pool/{name}-pool")
    )
    assert "autoscaled: 0 to 2 low-priority nodes" in pool["reason"]


def _rules(faults) -> list[dict]:
    from runner.backends import local_target

    return local_target.get_faults(faults.status)
