"""The corpus-wide top-N example end to end on the local target: `runner apply
specs/topwords-corpus.yaml --yes` leaves each sample's top N and an exact
TOTAL_OUTPUT.txt, the top N of every sample's full counts summed (not a merge of the
per-file top N lists), ties in order of first appearance with the inputs read in sorted
path order; a re-apply of a kept job adds only the tasks it lacks."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from topwords_helpers import ASCII_SPACE, REPO, SAMPLES, read_report, reference_top, result_of

pytestmark = pytest.mark.integration

CORPUS_SPEC = REPO / "specs" / "topwords-corpus.yaml"


def reference_total(paths: list[Path], n: int) -> list[tuple[str, int]]:
    """The design's rule over the files one after another, in sorted path order: every
    word's count summed, top ``n``, ties in order of first appearance."""
    counts: dict[str, int] = {}
    for path in sorted(paths):
        data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
        for raw in ASCII_SPACE.split(data):
            word = raw.decode("utf-8").strip(string.punctuation)
            if word:
                counts[word] = counts.get(word, 0) + 1
    return sorted(counts.items(), key=lambda kv: -kv[1])[:n]


def test_shipped_corpus_example_leaves_each_top3_and_the_exact_total(cli) -> None:
    run = cli("apply", *cli.spec_args(CORPUS_SPEC), "--yes", "--output", "json").expect(0)

    counts = result_of(run.out)["counts"]
    assert counts["tasks_added"] == counts["succeeded"] == len(SAMPLES) + 1
    out = cli.cwd / "out" / "topwords-corpus"
    # The full counts go to the merge task only: they are not collected.
    expected = {f"{s.stem}_OUTPUT.txt" for s in SAMPLES} | {"TOTAL_OUTPUT.txt"}
    assert {p.name for p in out.iterdir()} == expected
    for sample in SAMPLES:
        words, _ = read_report(out / f"{sample.stem}_OUTPUT.txt")
        assert words == reference_top(sample, 3), sample.name
    words, footer = read_report(out / "TOTAL_OUTPUT.txt")
    assert words == reference_total(SAMPLES, 3)
    assert footer["Task"] == "topwords-total"
    assert footer["Job"] == "topwords-corpus-job"


def test_total_is_exact_where_merging_each_top_n_would_not_be(cli, tmp_path: Path) -> None:
    texts = tmp_path / "texts"
    texts.mkdir()
    # Top 1 of each file is "a" and "d" (3 each); over both, "b" and "c" have 4 each and
    # tie, and "b" comes first once a.txt is read before b.txt, whatever the glob's order.
    (texts / "b.txt").write_text("d d d c c b b\n")
    (texts / "a.txt").write_text("a a a b b c c\n")
    args = cli.spec_args(CORPUS_SPEC, inputs=f"{texts}/*.txt", top="2", out="mine")
    cli("apply", *args, "--yes", "--output", "json").expect(0)

    words, _ = read_report(cli.cwd / "mine" / "TOTAL_OUTPUT.txt")
    assert words == [("b", 4), ("c", 4)]
    assert words == reference_total(list(texts.iterdir()), 2)
    first, _ = read_report(cli.cwd / "mine" / "a_OUTPUT.txt")
    assert first == [("a", 3), ("b", 2)]


def test_reapply_of_a_kept_job_adds_only_missing_tasks(cli, tmp_path: Path, unique_name) -> None:
    name = unique_name("corpus")
    texts = tmp_path / "texts"
    texts.mkdir()
    for sample in SAMPLES:
        (texts / sample.name).write_bytes(sample.read_bytes())
    spec = yaml.safe_load(CORPUS_SPEC.read_text())
    spec.update(name=name, teardown={"job": "never", "pool": "never", "containers": "never"})
    spec["pool"]["id"], spec["job"]["id"] = f"{name}-pool", f"{name}-job"
    spec["vars"].update(inputs=f"{texts}/*.txt", out=f"out/{name}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    apply = ("apply", str(path), "--workspace", cli.workspace, "--yes", "--output", "json")
    total = cli.cwd / "out" / name / "TOTAL_OUTPUT.txt"

    cli(*apply).expect(0)
    first = total.read_text()
    counts = result_of(cli(*apply).expect(0).out)["counts"]
    assert (counts["tasks_added"], counts["tasks_present"]) == (0, len(SAMPLES) + 1)
    assert total.read_text() == first

    # One more input: its task runs, and the merge again, since its inputs changed.
    (texts / "zz_more.txt").write_text("zebra " * 5000 + "\n")
    counts = result_of(cli(*apply).expect(0).out)["counts"]
    assert (counts["tasks_added"], counts["tasks_rerun"]) == (2, 1)
    words, _ = read_report(total)
    assert words == reference_total(list(texts.iterdir()), 3)
    assert words[0] == ("zebra", 5000)
    cli("destroy", str(path), "--workspace", cli.workspace, "--yes").expect(0)
