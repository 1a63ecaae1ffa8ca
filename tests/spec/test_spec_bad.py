"""The corpus of bad specs: each ``bad/<case>.yaml`` gives exactly ``bad/<case>.expected``,
through the loader and through ``runner validate`` (exit 1, located, no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.render.diagnostics import format_spec_error, spec_error_as_json
from runner.spec.loader import load_specs

BAD = Path(__file__).parent / "bad"
CASES = sorted(BAD.glob("*.yaml"))
UNSET = "RUNNER_TEST_SURELY_UNSET"


def _rendered(case: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_specs([case.name])
    return format_spec_error(info.value)


def _validate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != UNSET}
    return subprocess.run(
        [sys.executable, "-m", "runner", "validate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 32
    assert all(case.with_suffix(".expected").is_file() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_bad_spec_gives_expected_diagnostic(
    case: Path, monkeypatch: pytest.MonkeyPatch, update_golden: bool
) -> None:
    monkeypatch.chdir(BAD)
    monkeypatch.delenv(UNSET, raising=False)
    rendered = _rendered(case)
    expected = case.with_suffix(".expected")
    if update_golden:
        expected.write_text(rendered, encoding="utf-8")
    assert rendered == expected.read_text(encoding="utf-8")
    assert rendered.startswith(f"{case.name}:")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_bad_spec_fails_validate_with_located_error(case: Path) -> None:
    result = _validate(case.name, cwd=BAD)
    expected = case.with_suffix(".expected").read_text(encoding="utf-8")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(expected), result.stderr
    assert result.stdout == ""


def test_validate_json_carries_the_same_diagnostics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    with pytest.raises(SpecError) as info:
        load_specs(["multiple_errors.yaml"])
    result = _validate("multiple_errors.yaml", "--output", "json", cwd=BAD)
    import json

    assert result.returncode == 1
    assert json.loads(result.stdout) == spec_error_as_json(info.value)
    first = json.loads(result.stdout)["diagnostics"][0]
    assert (first["file"], first["line"], first["col"]) == ("multiple_errors.yaml", 3, 7)


def test_all_errors_of_all_files_are_reported_together() -> None:
    result = _validate("cpu_zero.yaml", "bad_group_name.yaml", "multiple_errors.yaml", cwd=BAD)
    assert result.returncode == 1
    headers = [line for line in result.stderr.splitlines() if ": error: " in line]
    files = {h.split(":")[0] for h in headers}
    assert files == {"cpu_zero.yaml", "bad_group_name.yaml", "multiple_errors.yaml"}
    assert len(headers) == 1 + 1 + 5
    assert result.stderr.rstrip().endswith("7 errors in 3 files")
