"""The benchmark RESULT convention: lines parsed back and tabulated by benchmarks/report.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench_modules(request: pytest.FixtureRequest) -> None:
    # The scripts import their helper as a sibling module, as when run directly.
    sys.path.insert(0, str(BENCHMARKS))

    def forget() -> None:
        sys.path.remove(str(BENCHMARKS))
        for name in ("common", "report"):
            sys.modules.pop(name, None)

    request.addfinalizer(forget)


def test_result_lines_round_trip(bench_modules: None, capsys: pytest.CaptureFixture[str]) -> None:
    import common

    record = common.result("x vs y", figure=2.0, baseline=8.0, unit="s", goal="ratio < 1", met=True)
    printed = capsys.readouterr().out
    assert printed.startswith("RESULT {")
    noise = "progress 10%\nRESULT {not json\n"
    assert common.parse_results(noise + printed) == [record]
    assert record["ratio"] == 0.25


def test_report_tabulates_results_and_fails_on_a_missed_goal(bench_modules: None) -> None:
    import report

    table = report.table(
        [
            {"name": "fast", "figure": 1.5, "baseline": 6.0, "unit": "s", "ratio": 0.25,
             "goal": "ratio < 1", "met": True},
            {"name": "memory", "figure": 120.0, "baseline": None, "unit": "MB", "ratio": None,
             "goal": "figure < 100 MB", "met": False},
        ]
    )  # fmt: skip
    lines = table.splitlines()
    assert lines[0].split() == ["benchmark", "figure", "baseline", "ratio", "goal", "met?"]
    assert lines[2].split() == ["fast", "1.5", "s", "6", "s", "0.25x", "ratio", "<", "1", "yes"]
    assert lines[3].split()[-1] == "NO"


def test_report_exits_1_when_a_script_prints_no_result(tmp_path: Path) -> None:
    # A copy of the report beside a broken benchmark, so the real ones are not run.
    for name in ("report.py", "common.py"):
        (tmp_path / name).write_text((BENCHMARKS / name).read_text())
    (tmp_path / "broken.py").write_text("print('no figures here')\n")
    done = subprocess.run(
        [sys.executable, str(tmp_path / "report.py")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "broken.py: printed no RESULT line" in done.stdout
