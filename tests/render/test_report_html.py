"""The run report page drawn from run records as data: a thousand tasks make a thousand
bars in a page of moderate size, packed into one lane per task a node runs at a time;
tasks that never started, failures, container groups and cost are shown; values are
escaped; the page names nothing it would fetch."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from runner.engine.run_model import GroupRun, JobTimeline, RunRecord, StepSpan, TaskSpan
from runner.plan.cost_lines import CostIncurred, IncurredLine
from runner.plan.price_table import PriceSource
from runner.render.report_html import render_report
from runner.render.report_view import axis_of, job_view

T0 = 1_800_000_000.0
NODES = 10
SLOTS = 4  # tasks each node runs at a time


def _thousand_tasks() -> tuple[TaskSpan, ...]:
    tasks = []
    for i in range(1000):
        wave, place = divmod(i, NODES * SLOTS)
        start = T0 + 30 + wave * 10.0
        failed = i % 100 == 7
        tasks.append(
            TaskSpan(
                id=f"task-{i:04d}",
                state="completed",
                node=f"tvm-{place % NODES:02d}",
                started=start,
                finished=start + 9.5,
                exit_code=2 if failed else 0,
                result="failure" if failed else "success",
                retries=1 if failed else 0,
            )
        )
    return tuple(tasks)


def _record(tasks: tuple[TaskSpan, ...], **extra: object) -> RunRecord:
    fields: dict[str, object] = {
        "workspace": "ws",
        "specs": ("BatchJob/big",),
        "paths": ("specs/big.yaml",),
        "started": T0,
        "finished": T0 + 300,
        "ok": False,
        "errors": ("10 tasks failed",),
        "steps": (
            StepSpan(
                address="BatchJob/big/pool/big-pool",
                step="create",
                started=T0 + 1,
                finished=T0 + 20,
                outcome="ok",
            ),
            StepSpan(
                address="BatchJob/big/job/big-job",
                step="poll",
                started=T0 + 25,
                finished=T0 + 290,
                outcome="ok",
                retries=2,
            ),
            StepSpan(address="BatchJob/big/collect/out", step="collect", outcome="skipped"),
        ),
        "jobs": (
            JobTimeline(
                spec="BatchJob/big", job="big-job", pool="big-pool", tasks=tasks, read_at=T0 + 291
            ),
        ),
    }
    fields.update(extra)
    return RunRecord.model_validate(fields)


class _Bars(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[dict[str, str | None]] = []
        self.fetches: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-task" in found:
            self.tasks.append(found)
        for name in ("src", "href"):
            value = found.get(name)
            if value is not None and not value.startswith("data:") and not value.startswith("#"):
                self.fetches.append(value)


def _parse(page: str) -> _Bars:
    parser = _Bars()
    parser.feed(page)
    return parser


def test_a_thousand_tasks_make_a_thousand_bars_in_a_page_of_moderate_size() -> None:
    tasks = _thousand_tasks()
    page = render_report(_record(tasks))

    bars = _parse(page).tasks
    assert sorted(str(b["data-task"]) for b in bars) == sorted(t.id for t in tasks)
    assert len(page.encode()) < 1_000_000  # about 600 bytes a task, tables included
    failed = {b["data-task"] for b in bars if b["data-state"] == "failed"}
    assert failed == {t.id for t in tasks if t.exit_code}


def test_tasks_are_packed_into_one_lane_per_task_a_node_runs_at_once() -> None:
    record = _record(_thousand_tasks())
    view = job_view(record.jobs[0], record, axis_of(record))

    assert [n.node for n in view.nodes] == [f"tvm-{i:02d}" for i in range(NODES)]
    assert {n.lanes for n in view.nodes} == {SLOTS}
    assert sum(len(n.bars) for n in view.nodes) == 1000
    assert len(view.problems) == 10  # failed and retried


def test_tasks_that_never_started_get_a_chip_each_and_are_counted_waiting() -> None:
    waiting = (TaskSpan(id="merge", state="active"), TaskSpan(id="late", state="active"))
    page = render_report(_record(_thousand_tasks()[:3] + waiting))

    bars = {str(b["data-task"]): b["data-state"] for b in _parse(page).tasks}
    assert bars["merge"] == bars["late"] == "waiting"
    assert "2 tasks not started" in page


def test_container_groups_show_their_exit_codes_and_the_cost_its_lines() -> None:
    group = GroupRun(
        address="ContainerGroup/rg/job",
        step="create",
        started=T0 + 2,
        finished=T0 + 40,
        outcome="failed",
        message="run failed: main exited with 3",
        exit_codes={"main": 3, "side": None},
    )
    cost = CostIncurred(
        source=PriceSource(kind="table", name="runner's price table", date="2024-06-01"),
        lines=(
            IncurredLine(address="ContainerGroup/rg/job", seconds=38.0, hourly=0.05, cost=0.000528),
        ),
        total=0.000528,
    )
    page = render_report(_record((), groups=(group,), cost=cost, jobs=()))

    assert 'data-group="ContainerGroup/rg/job"' in page
    assert "<code>main: 3</code>, <code>side: none</code>" in page
    assert "0.0005 USD" in page and "runner&#39;s price table, 2024-06-01, USD" in page
    assert "data-task=" not in page


def test_values_are_escaped_and_nothing_is_fetched() -> None:
    hostile = TaskSpan(
        id='<img src="http://example.com/x.png">', state="completed", exit_code=1, result="failure"
    )
    record = _record((hostile,), errors=("<script>alert(1)</script>",), paths=("specs/<b>.yaml",))
    page = render_report(record)

    assert "<script>alert(1)</script>" not in page
    assert '<img src="http://example.com' not in page
    parsed = _parse(page)
    assert parsed.fetches == []
    assert len(parsed.tasks) == 1
    # One inline script and one inline style sheet, no external ones.
    assert re.findall(r"<script[^>]*>", page) == ["<script>"]
    assert '<link rel="stylesheet"' not in page
