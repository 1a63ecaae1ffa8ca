"""Run every benchmark script and print one table of their RESULT lines.

    python benchmarks/report.py [NAME ...] [--quick] [--timeout SECONDS] [--json]

Runs ``benchmarks/*.py`` except this file, common.py and names starting with
``_`` (or only the NAMEs given, with or without ``.py``), one after another
with the same Python, and collects the ``RESULT {...}`` lines each prints (the
convention is in README.md). ``--quick`` sets RUNNER_BENCH_QUICK=1, which a
benchmark may honour with a smaller workload. A script that fails, times out
or prints no RESULT line gets a row saying so.

Exit code: 0 when every goal is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from common import parse_results

HERE = Path(__file__).resolve().parent
SKIP = {"report.py", "common.py"}
COLUMNS = ("benchmark", "figure", "baseline", "ratio", "goal", "met?")


def discover(names: list[str]) -> list[Path]:
    scripts = sorted(
        p for p in HERE.glob("*.py") if p.name not in SKIP and not p.name.startswith("_")
    )
    if not names:
        return scripts
    wanted = {n if n.endswith(".py") else f"{n}.py" for n in names}
    unknown = wanted - {p.name for p in scripts}
    if unknown:
        raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))}")
    return [p for p in scripts if p.name in wanted]


def run_one(script: Path, timeout: float, env: dict[str, str]) -> list[dict[str, Any]]:
    """Run a benchmark, echoing its output as it comes, and return its RESULT records."""
    print(f"== {script.name}", flush=True)
    lines: list[str] = []
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=HERE.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    assert proc.stdout is not None
    # A timer rather than checks between lines: a silent, stuck script is killed too.
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        for line in proc.stdout:
            lines.append(line)
            print(f"   {line}", end="", flush=True)
        proc.wait()
    finally:
        timer.cancel()
    if timed_out.is_set():
        return [failure(script, f"timed out after {timeout:g} s")]
    records = parse_results("".join(lines))
    for record in records:
        record.setdefault("script", script.name)
    if proc.returncode != 0:
        records.append(failure(script, f"exit code {proc.returncode}"))
    elif not records:
        records.append(failure(script, "printed no RESULT line"))
    return records


def failure(script: Path, why: str) -> dict[str, Any]:
    return {"script": script.name, "name": f"{script.name}: {why}", "figure": None,
            "baseline": None, "unit": "", "ratio": None, "goal": "runs", "met": False}  # fmt: skip


def cell(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    else:
        text = str(value)
    return f"{text} {unit}".rstrip()


def table(records: list[dict[str, Any]]) -> str:
    rows = [
        (
            str(r.get("name", "?")),
            cell(r.get("figure"), r.get("unit", "")),
            cell(r.get("baseline"), r.get("unit", "")),
            "-" if r.get("ratio") is None else f"{r['ratio']:.3g}x",
            str(r.get("goal", "-")),
            "yes" if r.get("met") else "NO",
        )
        for r in records
    ]
    widths = [max(len(c[i]) for c in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(COLUMNS, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks and tabulate their results.")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="ask for smaller workloads")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per benchmark")
    parser.add_argument("--json", action="store_true", help="print the records as JSON too")
    args = parser.parse_args()

    env = dict(os.environ)
    if args.quick:
        env["RUNNER_BENCH_QUICK"] = "1"
    records: list[dict[str, Any]] = []
    for script in discover(args.names):
        records.extend(run_one(script, args.timeout, env))
    print()
    print(table(records))
    if args.json:
        print(json.dumps(records, indent=2))
    return 0 if records and all(r.get("met") for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
