"""A progress line says each count once, with elapsed time as a stopwatch of the timeout."""

from __future__ import annotations

import io

from rich.console import Console

from runner.engine.events import StepProgress
from runner.render.human import HumanRenderer, clock, progress_text

JOB = "BatchJob/topwords/job/topwords-job"


def test_clock_reads_like_a_stopwatch() -> None:
    assert clock(0) == "0:00"
    assert clock(42) == "0:42"
    assert clock(1200) == "20:00"
    assert clock(3900) == "1:05:00"


def test_message_and_counts_are_not_both_listed() -> None:
    counts = {"active": 3, "running": 1, "succeeded": 0, "failed": 0, "elapsed": 42}
    text = progress_text("3 active, 1 running, 0 succeeded, 0 failed", {**counts, "timeout": 1200})
    assert text == "3 active, 1 running, 0 succeeded, 0 failed; 0:42 of 20:00"


def test_counts_alone_are_listed_value_first() -> None:
    assert progress_text("", {"active": 2, "running": 1}) == "2 active, 1 running"
    assert progress_text("", {"running": 1, "elapsed": 75}) == "1 running; 1:15"


def test_batch_poll_line_as_printed() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=200, highlight=False)
    renderer = HumanRenderer(console, live=False, interval=3600)
    counts = {"active": 3, "running": 1, "succeeded": 0, "failed": 0}
    renderer.emit(
        StepProgress(
            JOB,
            message="3 active, 1 running, 0 succeeded, 0 failed",
            counts={**counts, "elapsed": 42, "timeout": 1200},
        )
    )
    (line,) = buffer.getvalue().splitlines()
    assert line == f"{JOB}: 3 active, 1 running, 0 succeeded, 0 failed; 0:42 of 20:00"
    assert line.count("active") == 1
