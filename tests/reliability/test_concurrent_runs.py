"""Two runs of one workspace at once: the second apply or destroy fails fast with a
message naming the holder, and never writes; a plan (read only) is not blocked.

tests/e2e/test_aci_faults.py covers a second apply of container groups; these cover the
Batch job, destroy while an apply runs, plan while an apply runs, and two applies started
at the same instant.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from runner_cli import start_runner
from storm_helpers import writes
from topwords_helpers import result_of, write_spec

pytestmark = pytest.mark.integration

KEEP_ALL = {"job": "never", "pool": "never", "containers": "never"}
WAIT_LINES = 400  # output lines read while waiting for the first run to poll


def start(cli: Any, *args: str) -> subprocess.Popen[str]:
    return start_runner(cli.env, cli.cwd, *args)


def wait_until_polling(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    seen = []
    for _ in range(WAIT_LINES):
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if '"StepStarted"' in line and '"step": "poll"' in line:
            return "".join(seen)
    out, err = proc.communicate(timeout=60)
    pytest.fail("the first apply ended before polling:\n" + "".join(seen) + out + err)


def gated_job(folder: Path, name: str, gate: Path) -> Path:
    """The top-N job whose task waits for ``gate`` to exist (nodes are processes on this
    machine): the apply keeps polling until the test opens the gate, at most a minute."""
    return write_spec(
        folder,
        name,
        texts={"one.txt": "one two two\n"},
        teardown=KEEP_ALL,
        tasks={
            "forEachFile": "topwords/*.txt",
            "id": "topwords-{{ file.stem }}",
            "command": f"for i in $(seq 600); do [ -e {gate} ] && break; sleep 0.1; done; "
            "python3 $AZ_BATCH_NODE_SHARED_DIR/topwords.py "
            "--filepath {{ file.name }} --numwords 3 --output {{ file.stem }}_OUTPUT.txt",
            "outputs": ["{{ file.stem }}_OUTPUT.txt"],
        },
    )


def assert_refused_naming(run: Any, holder: subprocess.Popen[str]) -> None:
    run.expect(1)
    assert "is locked by" in run.err, run.err
    assert f"pid {holder.pid}" in run.err, run.err
    assert "apply" in run.err.split("is locked by", 1)[1], run.err


def test_second_batch_apply_and_a_destroy_fail_fast_while_plan_reads(
    cli: Any,
    emulator: dict[str, Any],
    faults: Any,
    batch_client: Any,
    unique_name: Any,
    tmp_path: Path,
) -> None:
    name = unique_name("conc-tw")
    gate = tmp_path / "gate"
    spec = gated_job(tmp_path / "spec", name, gate)
    args = cli.spec_args(spec)
    first = start(cli, "apply", *args, "--yes", "--output", "json")
    try:
        before = wait_until_polling(first)
        faults.reset_counters()
        assert_refused_naming(cli("apply", *args, "--yes"), first)
        assert_refused_naming(
            cli("destroy", str(spec), "--workspace", cli.workspace, "--yes"), first
        )
        assert_refused_naming(cli("destroy", "--workspace", cli.workspace, "--yes"), first)
        # The first run polls while the others are refused: nothing at all was written.
        assert writes(faults.counters()) == 0, faults.counters()
        # A plan only reads: it runs, and sees the job's tasks already there.
        plan = cli("plan", *args, "--output", "json").expect(0)
        assert '"action": "create"' not in plan.out
        assert first.poll() is None, "the first apply ended early: the test proves nothing"
    finally:
        gate.touch()
        out, err = first.communicate(timeout=180)
    assert first.returncode == 0, before + out + err
    counts = result_of(before + out)["counts"]
    assert counts["tasks_added"] == counts["succeeded"] == 1
    tasks = list(batch_client.list_tasks(f"{name}-job"))
    assert len(tasks) == 1
    assert all(t.execution_info.retry_count == 0 for t in tasks)
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_two_applies_started_together_write_once(
    cli: Any,
    faults: Any,
    spec: Any,
    names: dict[str, str],
    test_image: str,
    requests_seen: Any,
    cleanup: list[Path],
) -> None:
    """Both plan at the same time; one takes the lock and creates the group, the other is
    refused: one PUT of the group, never two (a second would restart its containers)."""
    cleanup.append(spec("single"))
    args = cli.spec_args(spec("single"), image=test_image, **names)
    # A slow create keeps the first holder busy while the second reaches the lock.
    faults.set(
        [
            {
                "api": "arm",
                "method": "PUT",
                "route": "containerGroups",
                "fault": "latency",
                "lro_latency": 4,
            }
        ]
    )
    requests_seen.reset()
    runs = [start(cli, "apply", "--yes", *args) for _ in range(2)]
    results = [(p, *p.communicate(timeout=180)) for p in runs]
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 1], [(p.returncode, out, err) for p, out, err in results]
    loser = next((p, out, err) for p, out, err in results if p.returncode == 1)
    winner = next(p for p, _, _ in results if p.returncode == 0)
    assert f"pid {winner.pid}" in loser[2], loser[2]
    assert requests_seen.puts() == 1, requests_seen.counters()


def read_until(stream: Any, needle: str) -> str:
    """Reads ``stream`` a character at a time (a prompt ends without a newline)."""
    seen = ""
    for _ in range(200_000):
        char = stream.read(1)
        if not char:
            break
        seen += char
        if needle in seen:
            return seen
    raise AssertionError(f"no {needle!r} in:\n{seen}")


def test_an_apply_waiting_for_confirmation_holds_the_workspace(
    cli: Any,
    spec: Any,
    names: dict[str, str],
    test_image: str,
    requests_seen: Any,
    cleanup: list[Path],
) -> None:
    """An apply that showed its plan and waits for "yes" holds the lock: a second apply
    meanwhile is refused, so the first never acts on a plan made stale by another run
    (a second create of the group would restart its containers)."""
    import os
    import pty

    cleanup.append(spec("single"))
    args = cli.spec_args(spec("single"), image=test_image, **names)
    controller, terminal = pty.openpty()
    first = start_runner(cli.env, cli.cwd, "apply", *args, stdin=terminal)
    os.close(terminal)
    try:
        read_until(first.stderr, "Enter a value")
        requests_seen.reset()
        assert_refused_naming(cli("apply", "--yes", *args), first)
        assert requests_seen.puts() == 0
        os.write(controller, b"yes\n")
        out, err = first.communicate(timeout=120)
    finally:
        os.close(controller)
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, out + err
    assert requests_seen.puts() == 1, requests_seen.counters()
