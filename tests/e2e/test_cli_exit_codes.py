"""Every error exits 1, usage errors included: 2 belongs to ``plan --detailed-exitcode``,
where it means "there are changes"."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_cli import runner_without_target as runner

GOOD = """\
kind: ContainerGroup
name: web
resourceGroup: rg
containers: [{name: app, image: "runner-test/busybox:1"}]
"""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["plan", "--detailed-exitcode", "missing.yaml"],
            "Error: Invalid value for 'PATHS...': Path 'missing.yaml' does not exist.",
        ),
        (
            ["plan", "--detailed-exitcode", "web.yaml", "--var-file", "missing.yaml"],
            "Error: Invalid value for '--var-file': File 'missing.yaml' does not exist.",
        ),
        (["plan", "--detailed-exitcode", "--no-such-flag", "web.yaml"], "No such option"),
        (["validate", "--no-such-flag", "web.yaml"], "No such option '--no-such-flag'"),
        (["apply", "--yes", "missing.yaml"], "Path 'missing.yaml' does not exist."),
        (["destroy", "--yes", "missing.yaml"], "Path 'missing.yaml' does not exist."),
        (["status", "missing.yaml"], "Path 'missing.yaml' does not exist."),
        (["logs"], "Missing argument 'SPEC'"),
        (["no-such-command"], "No such command 'no-such-command'"),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v),
)
def test_usage_errors_exit_1_with_clicks_message(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "web.yaml").write_text(GOOD)
    run = runner(tmp_path, *args)
    assert run.returncode == 1, run.stderr
    assert message in run.stderr
    assert run.stderr.startswith("Usage: ")
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "no-target").exists()


def test_help_and_version_still_exit_0(tmp_path: Path) -> None:
    assert runner(tmp_path, "--help").returncode == 0
    assert runner(tmp_path, "plan", "--help").returncode == 0
    assert runner(tmp_path, "--version").returncode == 0
