"""The run report end to end: ``runner apply --report`` on the local target writes the
page as the apply ends (here a failure), and headless Chromium loads it with no console
error and no request beyond the file itself, showing one bar per task with its state;
``runner report`` later writes the same page from the record the apply left. Neither
the page nor the record holds the job's secret."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
import yaml
from chromium_page import Chromium, need_chromium

pytestmark = pytest.mark.integration

SECRET_ENV = "RUNNER_REPORT_TEST_SECRET"
TASKS = {"count-a", "count-b", "count-c"}


def _spec(folder: Path, name: str) -> Path:
    (folder / "in").mkdir()
    for stem, text in {"a": "one two\n", "b": "fail\n", "c": "three\n"}.items():
        (folder / "in" / f"{stem}.txt").write_text(text)
    spec = {
        "kind": "BatchJob",
        "name": name,
        "pool": {"id": f"{name}-pool", "nodes": 2},
        "job": {"id": f"{name}-job", "secrets": {"TOKEN": {"fromEnv": SECRET_ENV}}},
        "tasks": {
            "forEachFile": "in/*.txt",
            "id": "count-{{ file.stem }}",
            # The task of the file holding "fail" fails, and is retried once.
            "command": 'test -n "$TOKEN" && wc -w < {{ file.name }} > {{ file.stem }}.count '
            "&& grep -qv fail {{ file.name }}",
            "outputs": ["{{ file.stem }}.count"],
            "maxRetries": 1,
        },
        "timeout": "5m",
        "collect": {"dir": f"out/{name}"},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_report_of_a_failed_apply_opens_clean_in_chromium_with_a_bar_per_task(
    cli, unique_name, tmp_path: Path
) -> None:
    browser = need_chromium()
    secret = "S3cr3t-" + secrets.token_hex(8)
    cli.env[SECRET_ENV] = secret
    name = unique_name("report")
    spec = _spec(cli.cwd, name)
    page_file = cli.cwd / "reports" / "run.html"

    run = cli("apply", *cli.spec_args(spec), "--yes", "--report", str(page_file)).expect(1)
    assert f"Wrote the run report to {page_file}" in run.text

    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    with Chromium(browser, profile) as chromium:
        page = chromium.open(page_file)
        bars = page.evaluate(
            "[...document.querySelectorAll('[data-task]')]"
            ".map(b => [b.dataset.task, b.dataset.state, b.getAttribute('title')])"
        )
        status = page.evaluate("document.querySelector('[data-status]').dataset.status")
        tasks_card = page.evaluate("document.querySelector('[data-summary=tasks]').innerText")
        cost_card = page.evaluate("document.querySelector('[data-summary=cost]').innerText")
        # The script runs: the "failed" filter dims the bars of the tasks that succeeded.
        page.evaluate("document.querySelector('[data-filter=failed]').click()")
        dimmed = page.evaluate(
            "getComputedStyle(document.querySelector('[data-task=count-a]')).opacity"
        )
        loaded = page.loaded

    assert loaded.problems() == []
    assert [u for u in loaded.requests if u != loaded.url and not u.startswith("data:")] == []
    assert sorted(b[0] for b in bars) == sorted(TASKS)  # one bar per task
    states = {task: state for task, state, _title in bars}
    assert states == {"count-a": "succeeded", "count-b": "failed", "count-c": "succeeded"}
    failed_title = next(t for task, _s, t in bars if task == "count-b")
    assert "exit 1" in failed_title and "1 retry" in failed_title
    assert status == "failed"
    assert "3" in tasks_card and "1 failed" in tasks_card
    assert "USD" in cost_card
    assert float(dimmed) < 0.5

    later = cli.cwd / "later.html"
    again = cli("report", *cli.spec_args(spec), "--out", str(later), "--output", "json").expect(0)
    answer = json.loads(again.out)
    assert answer["file"] == str(later)
    (job,) = answer["run"]["jobs"]
    assert {t["id"] for t in job["tasks"]} == TASKS
    assert later.read_text().count("data-task=") == len(TASKS)

    records = list((cli.cwd / ".runner" / "runs").rglob("*.json"))
    assert len(records) == 1
    for text in (page_file.read_text(), later.read_text(), records[0].read_text(), again.out):
        assert secret not in text
