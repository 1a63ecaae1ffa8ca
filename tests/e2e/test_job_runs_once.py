"""The results record end to end: a BatchJob applied twice runs once. The second apply
finds every task's result in the output container's record (its pool, job and input
containers long gone) and makes nothing; a changed input runs only its task (and the
merge that reads it), a missing collect folder is filled from the record, and
``--rerun NAME`` runs everything again."""

from __future__ import annotations

import pytest
import yaml
from test_topwords_corpus import CORPUS_SPEC, reference_total
from topwords_helpers import json_lines, read_report, reference_top, result_of, write_spec

pytestmark = pytest.mark.integration

TEXTS = {"a.txt": "one two two three three three\n", "b.txt": "x y y z z z z\n"}


def plan_changes(run_out: str) -> dict[str, dict]:
    plan = next(line["plan"] for line in json_lines(run_out) if line.get("type") == "plan")
    return {c["address"]: c for c in plan["changes"]}


def test_a_second_apply_of_an_unchanged_job_runs_nothing_and_says_why(
    cli, emulator, unique_name, tmp_path
) -> None:
    from runner.backends.target import local_target

    name = unique_name("tw-rec")
    spec = write_spec(tmp_path / "spec", name, texts=TEXTS)
    args = (*cli.spec_args(spec), "--yes", "--output", "json")
    first = result_of(cli("apply", *args).expect(0).out)
    assert first["counts"]["tasks_added"] == 2
    # The output container stays: it holds the results and their record.
    assert any(f"/container/{name}-output" in a for a in first["left"])

    again = cli("apply", *args).expect(0)
    changes = plan_changes(again.out)
    for stem in ("a", "b"):
        task = changes[f"BatchJob/{name}/task/{name}-job/topwords-{stem}"]
        assert task["action"] == "no-op"
        assert "done in an earlier run" in task["reason"]
    assert "not needed" in changes[f"BatchJob/{name}/pool/{name}-pool"]["reason"]
    second = result_of(again.out)
    assert second["counts"]["tasks_added"] == second["counts"]["uploaded"] == 0
    assert second["counts"]["downloaded"] == 0  # the collect folder has them already
    client = local_target(emulator).batch_client("local")
    assert f"{name}-pool" not in {p.id for p in client.list_pools()}

    out = cli.cwd / "out" / name
    (out / "a_OUTPUT.txt").unlink()
    third = result_of(cli("apply", *args).expect(0).out)
    assert third["counts"]["tasks_added"] == 0 and third["counts"]["downloaded"] == 1
    assert read_report(out / "a_OUTPUT.txt")[0] == reference_top(
        tmp_path / "spec/topwords/a.txt", 3
    )

    (tmp_path / "spec" / "topwords" / "b.txt").write_text("q q w\n")
    changed = cli("apply", *args).expect(0)
    counts = result_of(changed.out)["counts"]
    # The changed text, and the task script: its container went with the first teardown.
    assert counts["tasks_added"] == 1 and counts["uploaded"] == 2
    assert read_report(out / "b_OUTPUT.txt")[0] == [("q", 2), ("w", 1)]

    rerun = result_of(cli("apply", *args, "--rerun", name).expect(0).out)
    assert rerun["counts"]["tasks_added"] == 2
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_a_changed_input_of_a_merged_job_runs_its_task_and_the_merge_only(
    cli, unique_name, tmp_path
) -> None:
    name = unique_name("tw-recm")
    texts = tmp_path / "spec" / "texts"
    texts.mkdir(parents=True)
    for file_name, text in TEXTS.items():
        (texts / file_name).write_text(text)
    data = yaml.safe_load(CORPUS_SPEC.read_text())
    data.update(name=name)
    data["pool"]["id"], data["job"]["id"] = f"{name}-pool", f"{name}-job"
    data["vars"].update(inputs="texts/*.txt", out=f"out/{name}")
    spec = tmp_path / "spec" / f"{name}.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    args = (*cli.spec_args(spec), "--yes", "--output", "json")
    cli("apply", *args).expect(0)

    (texts / "a.txt").write_text("z z z z z y\n")
    run = cli("apply", *args).expect(0)
    changes = plan_changes(run.out)
    job = f"BatchJob/{name}/task/{name}-job"
    assert changes[f"{job}/topwords-b"]["action"] == "no-op"
    assert changes[f"{job}/topwords-a"]["action"] == "create"
    assert changes[f"{job}/topwords-total"]["action"] == "create"
    assert result_of(run.out)["counts"]["tasks_added"] == 2
    words, _ = read_report(cli.cwd / "out" / name / "TOTAL_OUTPUT.txt")
    assert words == reference_total(sorted(texts.glob("*.txt")), 3)
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)
