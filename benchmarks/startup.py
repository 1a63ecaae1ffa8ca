"""Start-up time of ``runner --help`` next to ``python -c pass`` in the same run.

``runner --help`` must not import the Azure SDKs, pydantic, yaml or rich (command bodies
import them lazily). Goal: under 150 ms. Both commands run with the same interpreter, one
after the other, several times; the figures are medians.

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import print_ratio, result

GOAL_MS = 150.0


def _median_ms(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _runner_argv() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m runner``."""
    script = Path(sys.executable).with_name("runner")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script), "--help"]
    return [sys.executable, "-m", "runner", "--help"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    runs = max(3, args.runs)
    baseline_argv = [sys.executable, "-c", "pass"]
    runner_argv = _runner_argv()
    # Warm the OS file cache and the bytecode caches so neither side pays for a first run.
    _median_ms(baseline_argv, 1)
    _median_ms(runner_argv, 1)
    baseline = _median_ms(baseline_argv, runs)
    figure = _median_ms(runner_argv, runs)
    print(f"python -c pass: {baseline:.1f} ms (median of {runs})")
    print(f"{' '.join(Path(a).name for a in runner_argv[:1])} --help: {figure:.1f} ms")
    print_ratio("runner --help vs python -c pass", figure, baseline, unit="ms")
    result(
        "runner --help start-up",
        figure=figure,
        baseline=baseline,
        unit="ms",
        goal=f"figure < {GOAL_MS:.0f} ms",
        met=figure < GOAL_MS,
        runs=runs,
    )


if __name__ == "__main__":
    main()
