"""Re-applying the top-N job resumes instead of repeating: after a success nothing is
uploaded or added again, after kill -9 the run converges to the same outputs; injected
429/500 faults are survived; no SAS token or key leaks into outputs, logs or commands."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from runner_cli import start_runner
from topwords_helpers import SAMPLES, events, read_report, reference_top, result_of, write_spec

pytestmark = pytest.mark.integration

KEEP_ALL = {"job": "never", "pool": "never", "containers": "never"}
SAS_SIGNATURE = re.compile(r"[?&]sig=|%26sig%3D|\bsig%3D", re.IGNORECASE)


def batch_client(emulator: dict[str, Any]) -> Any:
    from runner.backends.target import local_target

    return local_target(emulator).batch_client("local")


def assert_outputs_match_samples(out: Path) -> None:
    for sample in SAMPLES:
        words, _ = read_report(out / f"{sample.stem}_OUTPUT.txt")
        assert words == reference_top(sample, 3), sample.name


def secrets_of(emulator: dict[str, Any]) -> list[str]:
    storage_key = emulator["storage"]["connection_string"].split("AccountKey=")[1].split(";")[0]
    return [emulator["batch"]["key"], storage_key]


def assert_no_secret(text: str, secrets: list[str], where: str) -> None:
    assert not SAS_SIGNATURE.search(text), f"a SAS signature in {where}"
    for secret in secrets:
        assert secret not in text, f"a key in {where}"


def test_reapply_after_success_adds_no_tasks_uploads_nothing_and_leaks_no_secret(
    cli, emulator, unique_name, tmp_path
) -> None:
    name = unique_name("tw-again")
    spec = write_spec(tmp_path / "spec", name, teardown=KEEP_ALL)
    args = cli.spec_args(spec)
    first = cli("apply", *args, "--yes", "--output", "json").expect(0)
    assert result_of(first.out)["counts"]["tasks_added"] == len(SAMPLES)

    plan = cli("plan", *args, "--detailed-exitcode").expect(0)
    second = cli("apply", *args, "--yes", "--output", "json").expect(0)
    counts = result_of(second.out)["counts"]
    assert counts["uploaded"] == 0
    assert counts["skipped"] == len(SAMPLES) + 1
    assert counts["tasks_added"] == 0
    assert counts["tasks_present"] == len(SAMPLES)
    assert counts["succeeded"] == len(SAMPLES)
    out = cli.cwd / "out" / name
    assert_outputs_match_samples(out)

    # No SAS token or key anywhere: CLI output (text and JSON), collected files, task
    # command lines, the emulator's log.
    secrets = secrets_of(emulator)
    status = cli("status", *args, "--output", "json").expect(0)
    for run in (first, plan, second, status):
        assert_no_secret(run.text, secrets, f"runner {' '.join(run.args)}")
    for path in out.rglob("*"):
        if path.is_file():
            assert_no_secret(path.read_text(), secrets, str(path))
    tasks = list(batch_client(emulator).list_tasks(f"{name}-job"))
    assert len(tasks) == len(SAMPLES)
    for task in tasks:
        assert_no_secret(task.command_line, secrets, f"the command line of {task.id}")
        assert "$AZ_BATCH_NODE_SHARED_DIR/topwords.py" in task.command_line
    # The emulator's logs and the nodes' files (task stdout/stderr, transfer logs).
    state = Path(os.environ["RUNNER_LOCAL_DIR"])
    logs = [p for p in state.rglob("*") if p.suffix in (".log", ".txt") and p.is_file()]
    assert any(p.name == "server.log" for p in logs)
    for path in logs:
        assert_no_secret(path.read_text(errors="replace"), secrets, str(path))

    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)
    rows = json.loads(cli("status", *args, "--output", "json").expect(0).out)
    assert {r["state"] for r in rows} <= {"absent", "deleting"}


def start_apply_until_polling(cli: Any, args: list[str]) -> tuple[subprocess.Popen[str], str]:
    """Start ``runner apply --output json`` and return once it polls the job's tasks."""
    proc = start_runner(cli.env, cli.cwd, "apply", *args, "--yes", "--output", "json")
    seen: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if '"step": "poll"' in line and '"StepStarted"' in line:
            return proc, "".join(seen)
    out, err = proc.communicate(timeout=60)
    pytest.fail("apply ended before polling:\n" + "".join(seen) + out + err)


def test_ctrl_c_mid_run_tears_down_and_exits_130(cli, emulator, unique_name, tmp_path) -> None:
    name = unique_name("tw-int")
    spec = write_spec(
        tmp_path / "spec",
        name,
        texts={"a.txt": "a\n"},
        tasks={"forEachFile": "topwords/*.txt", "id": "t-{{ file.stem }}", "command": "sleep 60"},
    )
    proc, before = start_apply_until_polling(cli, cli.spec_args(spec))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == 130, before + out + err
    cancelled = events(before + out, "cancelled")
    assert cancelled, before + out
    removed = set(cancelled[-1]["removed"])
    assert {f"BatchJob/{name}/job/{name}-job", f"BatchJob/{name}/pool/{name}-pool"} <= removed
    # containers are removed only after a success: an interrupted run leaves them, and says so
    assert any(f"/container/{name}-input" in a for a in cancelled[-1]["left"])
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_kill_9_mid_run_then_reapply_converges(cli, emulator, unique_name, tmp_path) -> None:
    name = unique_name("tw-kill")
    spec = write_spec(
        tmp_path / "spec",
        name,
        teardown=KEEP_ALL,
        tasks={
            "forEachFile": "topwords/*.txt",
            "id": "topwords-{{ file.stem }}",
            # Slow enough that the apply is still polling when it is killed.
            "command": "sleep 1; python3 $AZ_BATCH_NODE_SHARED_DIR/topwords.py "
            "--filepath {{ file.name }} --numwords 3 --output {{ file.stem }}_OUTPUT.txt",
            "outputs": ["{{ file.stem }}_OUTPUT.txt"],
        },
    )
    args = cli.spec_args(spec)
    proc, _ = start_apply_until_polling(cli, args)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (cli.cwd / "out" / name).exists()  # killed before collecting anything

    again = cli("apply", *args, "--yes", "--output", "json").expect(0)
    counts = result_of(again.out)["counts"]
    assert counts["uploaded"] == 0
    assert counts["tasks_added"] == 0
    assert counts["tasks_present"] == len(SAMPLES)
    assert counts["succeeded"] == len(SAMPLES)
    assert_outputs_match_samples(cli.cwd / "out" / name)
    # Resumed, not repeated: every task ran exactly once.
    for task in batch_client(emulator).list_tasks(f"{name}-job"):
        assert task.execution_info.retry_count == 0
        assert task.execution_info.requeue_count == 0
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_429_and_500_on_a_tenth_of_batch_and_arm_requests_are_survived(
    cli, emulator, faults, unique_name, tmp_path
) -> None:
    name = unique_name("tw-faults")
    spec = write_spec(tmp_path / "spec", name)
    rules = [
        {"api": api, "method": "*", "route": "*", "fault": fault, "rate": 0.1, "retry_after": 1}
        for api in ("batch", "arm")
        for fault in ("429", "500")
    ]
    # One certain fault besides the random ones, so the run always meets at least one:
    # a 500 on adding the task collection, which must be sent again.
    rules.append({"api": "batch", "route": "addtaskcollection", "fault": "500", "count": 1})
    faults.set(rules)
    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json").expect(0)
    hits = [rule.get("hits", 0) for rule in _rules(emulator)]
    faults.clear()

    assert hits[-1] == 1, "the certain fault was not injected: the test proves nothing"
    result = result_of(run.out)
    assert result["counts"]["succeeded"] == len(SAMPLES)
    assert_outputs_match_samples(cli.cwd / "out" / name)
    assert events(run.out, "RunSummary")[-1]["ok"] is True


def _rules(emulator: dict[str, Any]) -> list[dict[str, Any]]:
    from runner.backends import local_target

    return local_target.get_faults(emulator)


def test_reapply_with_more_inputs_adds_and_uploads_only_the_new_ones(
    cli, emulator, unique_name, tmp_path
) -> None:
    name = unique_name("tw-more")
    spec = write_spec(tmp_path / "spec", name, teardown=KEEP_ALL)
    first = cli("apply", *cli.spec_args(spec, inputs="topwords/[cm]*.txt"), "--yes", "-o", "json")
    assert result_of(first.expect(0).out)["counts"]["tasks_added"] == 2

    second = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json").expect(0)
    counts = result_of(second.out)["counts"]
    assert counts["uploaded"] == len(SAMPLES) - 2
    assert counts["skipped"] == 3  # the task script and the two earlier inputs
    assert counts["tasks_added"] == len(SAMPLES) - 2
    assert counts["tasks_present"] == 2
    assert_outputs_match_samples(cli.cwd / "out" / name)
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_status_and_destroy_without_specs_cover_what_the_workspace_made(
    cli, emulator, unique_name, tmp_path
) -> None:
    name = unique_name("tw-ws")
    spec = write_spec(tmp_path / "spec", name, teardown=KEEP_ALL, texts={"a.txt": "a b b\n"})
    cli("apply", *cli.spec_args(spec), "--yes").expect(0)
    made = {
        f"BatchJob/{name}/job/{name}-job",
        f"BatchJob/{name}/pool/{name}-pool",
        f"BatchJob/{name}/container/{name}-application",
        f"BatchJob/{name}/container/{name}-input",
        f"BatchJob/{name}/container/{name}-output",
    }
    workspace = ["--workspace", cli.workspace]

    rows = json.loads(cli("status", *workspace, "--output", "json").expect(0).out)
    assert {r["address"] for r in rows} == made
    run = cli("destroy", *workspace, "--yes", "--output", "json").expect(0)
    assert made <= set(result_of(run.out)["removed"])
    rows = json.loads(cli("status", *workspace, "--output", "json").expect(0).out)
    assert {r["state"] for r in rows} <= {"deleting"}


def test_vm_size_change_replaces_the_pool_and_reruns_nothing(
    cli, emulator, unique_name, tmp_path
) -> None:
    name = unique_name("tw-vm")
    texts = {"a.txt": "a b b\n"}
    spec = write_spec(tmp_path / "spec", name, teardown=KEEP_ALL, texts=texts)
    cli("apply", *cli.spec_args(spec), "--yes").expect(0)
    pool = yaml.safe_load(spec.read_text())["pool"]
    spec = write_spec(
        tmp_path / "spec",
        name,
        teardown=KEEP_ALL,
        texts=texts,
        pool={**pool, "vmSize": "STANDARD_D4S_V3"},
    )

    plan = cli("plan", *cli.spec_args(spec), "--output", "json").expect(0)
    changes = {c["address"]: c for c in json.loads(plan.out)["changes"]}
    replaced = changes[f"BatchJob/{name}/pool/{name}-pool"]
    assert replaced["action"] == "replace"
    assert replaced["replace_paths"] == ["pool.vmSize"]
    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json").expect(0)
    counts = result_of(run.out)["counts"]
    assert counts["tasks_added"] == 0 and counts["tasks_present"] == 1
    assert counts["succeeded"] == 1
    client = batch_client(emulator)
    assert client.get_pool(f"{name}-pool").vm_size.lower() == "standard_d4s_v3"
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)
