"""Progress, results and status as people and machines see them, from engine events."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from runner.engine.events import (
    RunSummary,
    StepFinished,
    StepProgress,
    StepRetrying,
    StepStarted,
    TeardownReport,
)
from runner.plan.model import Change, Plan
from runner.render.human import HumanRenderer
from runner.render.json import JsonRenderer
from runner.render.plan_text import plan_text

G = "ContainerGroup/demo/task"


@dataclass
class Result:
    ok: bool = True
    counts: dict[str, int] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Row:
    address: str
    kind: str
    state: str
    detail: dict[str, Any]


def events() -> list[Any]:
    return [
        StepStarted(G, "create", at=100.0),
        StepRetrying(G, delay=2.0, reason="429 TooManyRequests", attempt=1, at=101.0),
        StepProgress(G, message="containers", counts={"running": 1}, at=103.0),
        StepFinished(G, "create", "ok", at=112.0),
        StepStarted(G, "collect", at=112.0),
        StepFinished(G, "collect", "failed", message="container task exited 3", at=113.0),
        TeardownReport(G, removed=(G,), left=("ResourceGroup/demo",), at=114.0),
        RunSummary("", counts={"created": 1}, ok=False, at=114.0),
    ]


def human() -> tuple[HumanRenderer, io.StringIO]:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=200, highlight=False)
    return HumanRenderer(console, live=False, interval=3600), buffer


def test_plain_progress_prints_one_line_per_event_with_step_durations() -> None:
    renderer, buffer = human()
    with renderer:
        for event in events():
            renderer.emit(event)
    lines = buffer.getvalue().splitlines()
    assert lines == [
        f"{G}: Creating...",
        f"{G}: retrying in 2.0s (attempt 1): 429 TooManyRequests",
        f"{G}: containers",
        f"{G}: Creation complete after 12s",
        f"{G}: Collecting...",
        f"{G}: collect failed after 1s: container task exited 3",
        f"Teardown removed: {G}",
        "Teardown left in place: ResourceGroup/demo",
    ]


def test_timer_reports_elapsed_time_of_steps_in_flight() -> None:
    renderer, _ = human()
    renderer.emit(StepStarted(G, "create", at=100.0))
    renderer.emit(StepStarted("ContainerGroup/demo/web", "delete", at=10.0))
    assert renderer.still_running(180.0) == [
        f"{G}: Still creating... [1m20s elapsed]",
        "ContainerGroup/demo/web: Still destroying... [2m50s elapsed]",
    ]
    renderer.emit(StepFinished(G, "create", "ok", at=181.0))
    assert renderer.still_running(200.0) == [
        "ContainerGroup/demo/web: Still destroying... [3m10s elapsed]"
    ]


def test_results_table_lists_steps_outputs_errors_and_verdict() -> None:
    renderer, buffer = human()
    for event in events():
        renderer.emit(event)
    renderer.result(
        Result(ok=False, counts={"created": 1}, outputs=["out/task/task.log"], errors=["boom"]),
        command="apply",
    )
    text = buffer.getvalue()
    assert "collect" in text and "failed" in text and "12s" in text
    assert "Wrote out/task/task.log" in text
    assert "Error: boom" in text
    assert text.rstrip().endswith("Apply failed! 1 created.")


def test_status_table_shows_ip_fqdn_restarts_and_exit_codes() -> None:
    renderer, buffer = human()
    renderer.status(
        [
            Row(
                "ContainerGroup/demo/web",
                "ContainerGroup",
                "Running",
                {"ip": "10.0.0.4", "fqdn": "web.example", "restarts": 2, "exit_codes": {"app": 0}},
            )
        ]
    )
    row = [line for line in buffer.getvalue().splitlines() if "demo/web" in line][0]
    for cell in ("Running", "10.0.0.4 web.example", "2", "app=0"):
        assert cell in row


def test_cancelled_says_what_was_removed_and_left() -> None:
    renderer, buffer = human()
    renderer.cancelled([G], ["ResourceGroup/demo"])
    text = buffer.getvalue()
    assert f"Removed: {G}" in text and "Left: ResourceGroup/demo" in text


def test_json_events_are_one_object_per_line_then_a_summary() -> None:
    buffer = io.StringIO()
    renderer = JsonRenderer(buffer)
    renderer.plan(Plan(workspace="demo"))
    for event in events():
        renderer.emit(event)
    renderer.result(Result(ok=False, errors=["boom"]), command="apply")
    docs = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [d["type"] for d in docs] == [
        "plan",
        "StepStarted",
        "StepRetrying",
        "StepProgress",
        "StepFinished",
        "StepStarted",
        "StepFinished",
        "TeardownReport",
        "RunSummary",
        "result",
    ]
    assert docs[0]["plan"]["format_version"] == Plan().format_version
    assert docs[7]["removed"] == [G]
    assert docs[-1] == {
        "type": "result",
        "command": "apply",
        "ok": False,
        "counts": {},
        "removed": [],
        "left": [],
        "outputs": [],
        "errors": ["boom"],
    }


def test_secure_values_are_masked_even_when_a_plan_carries_them() -> None:
    # The planner redacts already; the renderer masks secure keys again on its own.
    form = {"containers": [{"name": "app", "secureEnv": {"TOKEN": "hunter2-secret"}}]}
    newer = {"containers": [{"name": "app", "secureEnv": {"TOKEN": "rotated-secret"}}]}
    plan = Plan(
        changes=(
            Change(address="ContainerGroup/x/y", action="create", after=form),
            Change(address="ContainerGroup/x/z", action="update", before=form, after=newer),
        )
    )
    text = plan_text(plan)
    assert "secret" not in text
    assert "containers[app].secureEnv.TOKEN = (sensitive)" in text


def test_results_table_of_many_steps_keeps_the_failures_and_counts_the_rest() -> None:
    renderer, buffer = human()
    for i in range(60):
        address = f"ContainerGroup/demo/g{i:02d}"
        renderer.emit(StepStarted(address, "create", at=1.0))
        outcome = "failed" if i == 42 else "ok"
        renderer.emit(StepFinished(address, "create", outcome, at=2.0))
    buffer.seek(0)
    buffer.truncate()
    renderer.result(Result(ok=False), command="apply")
    table_rows = [line for line in buffer.getvalue().splitlines() if "ContainerGroup/" in line]
    assert len(table_rows) == 1 and "g42" in table_rows[0]
    assert "... and 59 more steps, all ok" in buffer.getvalue()
