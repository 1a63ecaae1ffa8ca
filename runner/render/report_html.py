"""The run report: one self-contained HTML page drawn from a ``RunRecord``.

Pure: a record in, the page's text out. The page fetches nothing (its CSS, script and
icon are inline), so it opens the same from a file, an attachment or a CI artifact.
Everything it shows comes from the record, which holds no command line, environment
value or secret; the template escapes every value it is given.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined, Template

from runner.engine.run_model import RunRecord
from runner.render.report_view import (
    axis_of,
    clock,
    cost_view,
    duration,
    group_bars,
    job_view,
    status_of,
    step_bars,
)

TEMPLATE = "run_report.html.j2"
LANE_PX = 7  # the height of one lane of task bars


@lru_cache(maxsize=1)
def _template() -> Template:
    text = resources.files("runner.render").joinpath("templates", TEMPLATE).read_text("utf-8")
    env = Environment(
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.from_string(text)


def report_context(record: RunRecord) -> dict[str, Any]:
    axis = axis_of(record)
    jobs = [job_view(j, record, axis) for j in record.jobs]
    tasks = [t for j in record.jobs for t in j.tasks]
    statuses = [t.status for t in tasks]
    title = ", ".join(record.paths or record.specs) or record.workspace
    steps = step_bars(record, axis)
    return {
        "title": title,
        "record": record,
        "status": status_of(record),
        "started": clock(record.started),
        "took": duration(record.ended - record.started),
        "ticks": axis.ticks(),
        "steps": steps,
        "failed_steps": sum(1 for s in steps if s.state == "failed"),
        "groups": group_bars(record, axis),
        "jobs": jobs,
        "lane_px": LANE_PX,
        "task_total": len(tasks),
        "task_counts": {s: statuses.count(s) for s in dict.fromkeys(statuses)},
        "retried": sum(1 for t in tasks if t.retries or t.requeues),
        "node_total": len({n.node for j in jobs for n in j.nodes}),
        "cost": cost_view(record.cost),
        "clock": clock,
        "duration": duration,
    }


def render_report(record: RunRecord) -> str:
    return _template().render(**report_context(record))
