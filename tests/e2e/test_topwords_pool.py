"""A pool that cannot run the job's tasks fails the apply early, naming the pool, the
node and the start task's error, instead of waiting for the job's timeout; teardown then
runs per policy."""

from __future__ import annotations

from typing import Any

import pytest
from topwords_helpers import result_of, write_spec

pytestmark = pytest.mark.integration

# Long enough that a run failing by timeout could not pass for an early failure.
TIMEOUT = "2m"
CLI_TIMEOUT = 100.0


def gone_or_deleting(emulator: dict[str, Any], pool_id: str, job_id: str) -> None:
    from runner.backends.target import local_target

    client = local_target(emulator).batch_client("local")
    for get, ident in ((client.get_pool, pool_id), (client.get_job, job_id)):
        try:
            state = str(get(ident).state).lower()
        except Exception as exc:
            assert "NotFound" in str(exc), exc
        else:
            assert "deleting" in state


def test_failed_start_task_fails_the_apply_naming_pool_node_and_error(
    cli, emulator, unique_name, tmp_path
) -> None:
    name = unique_name("tw-start")
    spec = write_spec(
        tmp_path / "spec",
        name,
        texts={"a.txt": "a b\n"},
        pool={"startTask": {"command": "echo no python3 on this image >&2; exit 3"}},
        timeout=TIMEOUT,
    )
    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json", timeout=CLI_TIMEOUT)
    run.expect(1)

    result = result_of(run.out)
    (error,) = [e for e in result["errors"] if "start task failed" in e]
    assert f"pool {name}-pool" in error
    assert "node " in error
    assert "exit code 3" in error
    assert "no python3 on this image" in error  # the end of the start task's stderr
    assert not any("timed out" in e for e in result["errors"])
    # teardown ran per policy: job and pool always, containers only on success
    assert f"BatchJob/{name}/job/{name}-job" in result["removed"]
    assert f"BatchJob/{name}/pool/{name}-pool" in result["removed"]
    assert any(f"/container/{name}-input" in a for a in result["left"])
    gone_or_deleting(emulator, f"{name}-pool", f"{name}-job")
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_pool_without_nodes_fails_the_apply_and_says_so(cli, unique_name, tmp_path) -> None:
    name = unique_name("tw-empty")
    spec = write_spec(
        tmp_path / "spec",
        name,
        texts={"a.txt": "a\n"},
        pool={"nodes": 0},
        timeout=TIMEOUT,
        teardown={"job": "always", "pool": "always", "containers": "always"},
    )
    run = cli("apply", *cli.spec_args(spec), "--yes", timeout=CLI_TIMEOUT).expect(1)

    assert f"pool {name}-pool has no nodes (target 0)" in run.text
    assert "1 waiting task(s) cannot run" in run.text
    assert "timed out" not in run.text
    assert f"BatchJob/{name}/pool/{name}-pool" in run.text.split("Teardown removed:")[1]
