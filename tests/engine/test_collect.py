"""Collect files stay inside their folder; the teardown policy as a table."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.engine import collect
from runner.errors import PermanentError
from runner.plan.observed import ObservedContainer, ObservedContainerGroup
from runner.spec.models import ContainerGroup


def group(restart: str, teardown: str) -> ContainerGroup:
    return ContainerGroup.model_validate(
        {
            "kind": "ContainerGroup",
            "name": "g",
            "resourceGroup": "rg",
            "restartPolicy": restart,
            "teardown": teardown,
            "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "x"}],
        }
    )


@pytest.mark.parametrize("name", ["../escape.log", "/etc/passwd", "sub/../../x"])
def test_names_leading_outside_the_folder_are_refused(tmp_path: Path, name: str) -> None:
    base = tmp_path / "out"
    base.mkdir()
    with pytest.raises(PermanentError, match="outside"):
        collect.safe_write(base, name, "x")
    assert list(tmp_path.rglob("*")) == [base]


def test_codes_and_logs_are_written(tmp_path: Path) -> None:
    base = collect.collect_dir(group("Never", "never"), tmp_path)
    assert base == tmp_path / "out" / "g"
    written = collect.write_codes(base, {"a": 0, "b": 2})
    assert Path(written).read_text() == '{\n  "a": 0,\n  "b": 2\n}\n'


def test_exit_codes_and_failures() -> None:
    spec = group("Never", "never")
    seen = ObservedContainerGroup(
        name="g",
        resource_group="rg",
        instance_state="Failed",
        containers=(
            ObservedContainer(name="a", state="Terminated", exit_code=0),
            ObservedContainer(name="b", state="Terminated", exit_code=2),
        ),
    )
    codes = collect.exit_codes(spec, seen)
    assert codes == {"a": 0, "b": 2}
    assert collect.failures(codes) == "b exited with 2"
    assert collect.failures({"a": 0}) == ""
    assert collect.finished(seen)


@pytest.mark.parametrize(
    ("restart", "teardown", "ok", "removed"),
    [
        ("Never", "onSuccess", True, True),
        ("Never", "onSuccess", False, False),
        ("Never", "always", False, True),
        ("Never", "never", True, False),
        ("OnFailure", "always", True, True),
        ("Always", "always", True, False),  # a service that came up stays up
        ("Always", "always", False, True),  # cancelled or failed: removed
        ("Always", "onSuccess", True, False),
    ],
)
def test_teardown_policy(restart: str, teardown: str, ok: bool, removed: bool) -> None:
    assert collect.removes(group(restart, teardown), ok) is removed
