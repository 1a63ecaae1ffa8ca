"""Rules with no HTTP: filters, paging, durations, output file naming, restart requeue."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.local.batch.errors import BatchServiceError
from runner.local.batch.query import compile_filter, page
from runner.local.batch.wire import MAX_DURATION, parse_duration
from runner.local.nodes.transfer import _matches

TASKS = [
    {"id": "a-1", "state": "active", "executionInfo": {"exitCode": 0}},
    {"id": "a-2", "state": "completed", "executionInfo": {"exitCode": 3}},
    {"id": "b-1", "state": "completed", "executionInfo": {"exitCode": 0}},
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("state eq 'completed'", ["a-2", "b-1"]),
        ("state eq 'Completed'", ["a-2", "b-1"]),
        ("startswith(id,'a-')", ["a-1", "a-2"]),
        ("state eq 'completed' and executionInfo/exitCode ne 0", ["a-2"]),
        ("id eq 'a-1' or id eq 'b-1'", ["a-1", "b-1"]),
        ("", ["a-1", "a-2", "b-1"]),
    ],
)
def test_filters_select_what_batch_would(text, expected):
    keep = compile_filter(text)
    assert [t["id"] for t in TASKS if keep(t)] == expected


def test_unsupported_filter_is_an_invalid_query_parameter():
    with pytest.raises(BatchServiceError) as caught:
        compile_filter("substringof('a', id)")
    assert caught.value.code == "InvalidQueryParameterValue"


def test_pages_link_to_the_next_one_until_the_last():
    items = [{"id": str(i)} for i in range(5)]
    args = {"api-version": "2025-06-01", "maxresults": "2", "$filter": "id ne 'x'"}
    first = page(items, args, "https://h", "/jobs/j/tasks")
    assert [i["id"] for i in first["value"]] == ["0", "1"]
    link = first["odata.nextLink"]
    assert link.startswith("https://h/jobs/j/tasks?") and "$skiptoken=2" in link
    assert "%24filter" not in link and "$filter=id%20ne%20%27x%27" in link
    last = page(items, {**args, "$skiptoken": "4"}, "https://h", "/jobs/j/tasks")
    assert [i["id"] for i in last["value"]] == ["4"] and "odata.nextLink" not in last
    with pytest.raises(BatchServiceError):
        page(items, {**args, "maxresults": "1001"}, "https://h", "/x")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT5S", 5.0),
        ("PT1M30S", 90.0),
        ("P1DT2H", 93600.0),
        ("PT0.5S", 0.5),
        (MAX_DURATION, None),
        (None, None),
    ],
)
def test_iso_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_output_patterns_name_blobs_as_batch_does(tmp_path: Path):
    task = tmp_path / "task"
    wd = task / "wd"
    (wd / "out" / "deep").mkdir(parents=True)
    for rel in ("out/a.csv", "out/deep/b.csv", "report.txt"):
        (wd / rel).write_text(rel)
    for name in ("stdout.txt", "stderr.txt"):
        (task / name).write_text(name)

    def names(pattern: str) -> list[str]:
        return sorted(rel for _, rel in _matches(pattern, wd, task))

    assert names("out/**/*.csv") == ["a.csv", "deep/b.csv"]
    assert names("../std*.txt") == ["stderr.txt", "stdout.txt"]
    assert names("report.txt") == ["report.txt"]
    assert names("../../*") == []  # nothing outside the task folder
