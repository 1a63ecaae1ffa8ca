"""``logs`` never answers with silence when there is a reason: a group that does not
exist, or whose container could not start, is named with why."""

from __future__ import annotations

from typing import Any

import pytest

from runner.engine import api
from runner.errors import RunnerError

pytestmark = pytest.mark.integration


def test_logs_of_a_group_never_applied_say_it_does_not_exist(
    group_spec: Any, target: Any, rg: str
) -> None:
    spec = group_spec("nowhere").spec
    with pytest.raises(RunnerError) as caught:
        list(api.logs(spec, target, container=None, follow=False))
    assert str(caught.value) == f"ContainerGroup/{rg}/nowhere does not exist: apply its spec first"


def test_logs_of_a_container_that_could_not_start_say_why(
    group_spec: Any, target: Any, workspace: str, events: Any, applied: list[Any], rg: str
) -> None:
    broken = group_spec("broken", command=["no-such-program"], restartPolicy="Never")
    applied.append(broken)
    plan = api.build_plan([broken], target, workspace)
    assert not api.apply(plan, [broken], target, events, workspace=workspace).ok
    with pytest.raises(RunnerError) as caught:
        list(api.logs(broken.spec, target, container=None, follow=False))
    message = str(caught.value)
    assert message.startswith(f"ContainerGroup/{rg}/broken has no logs; app: ")
    assert "no-such-program" in message
