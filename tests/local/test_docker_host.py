"""The advice given when no Docker engine answers works when followed: point DOCKER_HOST at
an engine and run ``runner apply`` again, and the running local target moves to it. A target
whose engine answers stays on it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runner_cli import runner
from target_helpers import group_spec, target_env

from runner.backends import local_target

pytestmark = pytest.mark.integration


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "target"
    yield folder
    local_target.down(folder, purge=True)


def test_following_the_docker_host_advice_runs_the_group(
    state: Path, tmp_path: Path, docker_client: Any, test_image: str
) -> None:
    good = os.environ["DOCKER_HOST"]
    spec = group_spec(tmp_path / "spec", "dockerhost", test_image)
    args = ["apply", str(spec), "--workspace", "dockerhost-ws", "--yes"]

    bad = target_env(state, DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock")
    failed = runner(bad, tmp_path, *args)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    advice = failed.stdout + failed.stderr
    assert "no Docker engine answers" in advice
    assert "point DOCKER_HOST at it and run `runner apply` again" in advice

    fixed = runner(target_env(state, DOCKER_HOST=good), tmp_path, *args)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    shown = runner(
        target_env(state, DOCKER_HOST=good), tmp_path, "local", "status", "--output", "json"
    )
    assert json.loads(shown.stdout)["docker"]["host"] == good
    # Labels from one list call: other tests' containers may go meanwhile.
    running = docker_client.api.containers(filters={"label": "runner.local.group"})
    assert any(
        c["Labels"]["runner.local.group"].endswith("/dockerhost-rg/dockerhost") for c in running
    )


def test_a_target_whose_engine_answers_stays_on_it(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNNER_LOCAL_RUNTIME", "instant")
    status = local_target.up(state)
    assert not local_target.use_docker(status, {"DOCKER_HOST": f"unix://{tmp_path}/other.sock"})
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/other.sock")
    assert local_target.up(state)["docker"]["host"] == status["docker"]["host"]
