"""The workflow example end to end on the local target: a container group lower-cases the
texts into Blob storage (through the SAS URLs it is given), a Batch job counts the words of
each lower-cased text and merges the exact total. Applied again it runs nothing and says
why; after one text changes, the lower-casing runs again and, of the Batch job, only that
text's task and the merge."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_topwords_corpus import reference_total
from topwords_helpers import REPO, SAMPLES, json_lines, read_report, result_of

pytestmark = pytest.mark.integration

WORKFLOW_SPEC = REPO / "specs" / "topwords-workflow.yaml"


def lowered(folder: Path, texts: list[Path]) -> list[Path]:
    """The texts as `tr A-Z a-z` leaves them."""
    folder.mkdir(parents=True, exist_ok=True)
    table = bytes.maketrans(bytes(range(65, 91)), bytes(range(97, 123)))
    out = []
    for text in texts:
        (folder / text.name).write_bytes(text.read_bytes().translate(table))
        out.append(folder / text.name)
    return out


def plan_of(run_out: str) -> dict[str, dict]:
    plan = next(line["plan"] for line in json_lines(run_out) if line.get("type") == "plan")
    return {c["address"]: c for c in plan["changes"]}


def test_the_workflow_runs_once_then_only_what_a_changed_text_needs(
    cli, tools_image, unique_name, tmp_path
) -> None:
    texts = tmp_path / "texts"
    texts.mkdir()
    for sample in SAMPLES[:3]:
        (texts / sample.name).write_bytes(sample.read_bytes())
    group = unique_name("rg-wf")
    args = cli.spec_args(
        WORKFLOW_SPEC, inputs=f"{texts}/*.txt", image=tools_image, resourceGroup=group
    )
    first = cli("apply", *args, "--yes", "--output", "json", timeout=180).expect(0)
    # Every event of a step's work names the step.
    named = {
        (e["address"].split("/")[0], e.get("workflow_step"))
        for e in json_lines(first.out)
        if e.get("type") == "StepFinished"
    }
    assert {("ContainerGroup", "lower"), ("BatchJob", "count")} <= named
    counts = result_of(first.out)["counts"]
    assert counts["steps_run"] == 2 and counts["tasks_added"] == 4  # 3 texts, the merge
    out = cli.cwd / "out" / "topwords-workflow"
    # Only what the step's collect names comes down: not each text's top N.
    assert [p.name for p in out.iterdir()] == ["TOTAL_OUTPUT.txt"]
    expected = reference_total(lowered(tmp_path / "lower", sorted(texts.glob("*.txt"))), 3)
    assert read_report(out / "TOTAL_OUTPUT.txt")[0] == expected

    again = cli("apply", *args, "--yes", "--output", "json", timeout=180).expect(0)
    steps = plan_of(again.out)
    for step in ("lower", "count"):
        change = steps[f"Workflow/topwords-workflow/step/{step}"]
        assert change["action"] == "no-op" and change["reason"].startswith("skipped"), change
    counts = result_of(again.out)["counts"]
    assert counts["steps_skipped"] == 2 and counts["tasks_added"] == 0
    assert counts["uploaded"] == 0

    changed = sorted(texts.glob("*.txt"))[0]
    changed.write_text("Zebra ZEBRA zebra Yak yak\n" * 50)
    third = cli("apply", *args, "--yes", "--output", "json", timeout=180).expect(0)
    counts = result_of(third.out)["counts"]
    assert counts["tasks_added"] == 2 and counts["tasks_present"] == 2  # its task, the merge
    expected = reference_total(lowered(tmp_path / "lower2", sorted(texts.glob("*.txt"))), 3)
    assert read_report(out / "TOTAL_OUTPUT.txt")[0] == expected

    cli("destroy", *args, "--yes").expect(0)
    # Every step's resources and the workflow's container (hand-offs, records) are gone.
    left = cli("status", "--workspace", cli.workspace, "--output", "json").expect(0)
    assert "topwords-workflow" not in left.out
