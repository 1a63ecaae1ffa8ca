"""Helpers shared by the benchmark scripts: timing, peak memory and the RESULT line.

Every benchmark script ends by printing one or more lines of the form::

    RESULT {"name": ..., "figure": ..., "baseline": ..., "unit": ..., "ratio": ...,
            "goal": ..., "met": ...}

(one JSON object on one line; see README.md). ``benchmarks/report.py`` collects
them into a table. Standard library only, so a benchmark runs with any Python.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULT_PREFIX = "RESULT "


@dataclass(frozen=True)
class Run:
    """One timed command: wall seconds and peak memory in MB.

    peak_rss_mb is the kernel's exact peak for the largest single process of the
    command (wait4). peak_tree_mb is the largest sampled sum over the process and
    all its descendants at once (PSS where /proc has it, so pages shared after a
    fork count once); sampling may miss a spike shorter than the interval, but it
    is the figure that matters when a command uses worker processes.
    """

    seconds: float
    peak_rss_mb: float
    peak_tree_mb: float
    returncode: int


def run_measured(
    argv: Sequence[str] | str, *, shell: bool = False, stdout: int | None = subprocess.DEVNULL
) -> Run:
    """Run a command, timing it and measuring its memory (see Run)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, shell=shell, stdout=stdout)
    sampler = _TreeSampler(proc.pid)
    sampler.start()
    # wait4 reports on this child (and the descendants it reaped), not every child so far.
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    peak = usage.ru_maxrss / scale
    return Run(seconds, peak, max(peak, sampler.peak_kb / 1024), proc.returncode)


class _TreeSampler(threading.Thread):
    """Samples the summed memory of a process tree from /proc (Linux only; else stays 0)."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kb = pid, interval, 0
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak_kb = max(self.peak_kb, sum(_memory_kb(p) for p in _tree(self.pid)))
            self._done.wait(self.interval)


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(child) for child in f.read().split())
        except OSError:
            continue
    return found


def _memory_kb(pid: int) -> int:
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return int(line.split()[1])
        except (OSError, ValueError):
            continue
    return 0


def median_run(
    argv: Sequence[str] | str, runs: int = 3, *, shell: bool = False, check: bool = True
) -> Run:
    """Median wall time (and the largest memory peaks) over several runs."""
    results = [run_measured(argv, shell=shell) for _ in range(max(1, runs))]
    if check and any(r.returncode != 0 for r in results):
        codes = sorted({r.returncode for r in results})
        raise SystemExit(f"benchmark command failed with exit code(s) {codes}: {argv}")
    return Run(
        statistics.median(r.seconds for r in results),
        max(r.peak_rss_mb for r in results),
        max(r.peak_tree_mb for r in results),
        results[0].returncode,
    )


def median_time(fn: Callable[[], object], runs: int = 3) -> float:
    """Median wall time of an in-process call."""
    times = []
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextmanager
def latency_proxy(upstream: str, delay: float) -> Iterator[int]:
    """A proxy on 127.0.0.1 in front of ``upstream`` (``host:port``) that delays what
    clients send by ``delay`` seconds (``_latency_proxy.py``, in a process of its own so
    that it takes no time from the benchmark's); yields the port it listens on."""
    script = Path(__file__).with_name("_latency_proxy.py")
    argv = [sys.executable, str(script), "--upstream", upstream, "--delay", str(delay)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("PORT "):
            raise SystemExit(f"the latency proxy did not start: {line!r}")
        yield int(line.split()[1])
    finally:
        proc.terminate()
        proc.wait(10)


def batch_context(
    desired: Any, batch: Any, blobs: Any, budget: float = 3600.0, emit: Any = None
) -> Any:
    """The context the apply's Batch steps run in, for ``desired`` against ``batch`` (a
    ``BatchAccount``) and ``blobs`` (a ``BlobStore``), with ``budget`` seconds of time."""
    from runner.engine.batch_context import BatchContext
    from runner.engine.retry import Clock

    clock = Clock()
    return BatchContext(
        desired=desired,
        workspace="bench",
        emit=emit or (lambda _event: None),
        clock=clock,
        started=clock.now(),
        deadline=clock.now() + budget,
        batch=batch,
        blobs=blobs,
    )


def ratio(figure: float, baseline: float) -> float | None:
    return figure / baseline if baseline else None


def print_ratio(label: str, figure: float, baseline: float, unit: str = "s") -> None:
    """A human line: ``label: 1.23 s vs 4.56 s (0.27x)``."""
    r = ratio(figure, baseline)
    shown = f"{r:.2f}x" if r is not None else "n/a"
    print(f"{label}: {figure:.3f} {unit} vs {baseline:.3f} {unit} ({shown})", flush=True)


def result(
    name: str,
    *,
    figure: float,
    baseline: float | None = None,
    unit: str = "",
    goal: str,
    met: bool,
    **extra: Any,
) -> dict[str, Any]:
    """Print and return one RESULT line. ratio = figure / baseline when there is one."""
    record: dict[str, Any] = {
        "name": name,
        "figure": round(figure, 4),
        "baseline": None if baseline is None else round(baseline, 4),
        "unit": unit,
        "ratio": None if baseline is None else _round(ratio(figure, baseline)),
        "goal": goal,
        "met": bool(met),
    }
    record.update(extra)
    print(RESULT_PREFIX + json.dumps(record, ensure_ascii=False), flush=True)
    return record


def parse_results(text: str) -> list[dict[str, Any]]:
    """Every RESULT record in a benchmark's output, in order; malformed lines are skipped."""
    records = []
    for line in text.splitlines():
        if not line.startswith(RESULT_PREFIX):
            continue
        try:
            value = json.loads(line[len(RESULT_PREFIX) :])
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
