"""Blob storms: random schedules of 503 ServerBusy with Retry-After, 500, dropped
connections and latency on the runner's Blob requests (container creates, uploads,
listings, downloads, deletes) while it runs the top-N job.

Azurite injects no faults, so a proxy in front of it does (blob_proxy.py), and the run is
made in-process through the engine's API with a target whose storage endpoint is the
proxy: the CLI would read the endpoint from the running target's status file. Apply must
converge to the quiet run's outputs, with retries and writes bounded by the faults.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from blob_proxy import BlobFaultProxy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from storm_helpers import TOTALS
from topwords_helpers import read_report, reference_top, write_spec

pytestmark = pytest.mark.integration

TEXT = "gale gale breeze gale breeze calm\n"
_examples = itertools.count(1)


@pytest.fixture
def proxied(emulator: dict[str, Any]) -> Any:
    """``(status, proxy)``: the emulator's status with Blob storage behind the proxy."""
    storage = dict(emulator["storage"])
    endpoint = storage["blob_endpoint"].rstrip("/")
    origin = endpoint.rsplit("/", 1)[0]  # http://127.0.0.1:port, the account path after it
    proxy = BlobFaultProxy(origin).start()
    try:
        storage["blob_endpoint"] = endpoint.replace(origin, proxy.url)
        storage["connection_string"] = storage["connection_string"].replace(origin, proxy.url)
        yield {**emulator, "storage": storage}, proxy
    finally:
        proxy.stop()


def blob_rules() -> Any:
    rule = st.fixed_dictionaries(
        {
            "method": st.sampled_from(["PUT", "GET", "HEAD", "DELETE", "*"]),
            "fault": st.sampled_from(["503", "500", "drop", "latency"]),
            "count": st.integers(1, 2),
            "retry_after": st.just(1),
            "latency": st.just(0.3),
        }
    )
    return st.lists(rule, min_size=1, max_size=3)


def run_job(status: dict[str, Any], spec: Path, workspace: str) -> tuple[Any, list[Any]]:
    from runner.backends.target import local_target
    from runner.engine import api
    from runner.spec.loader import load_specs

    target = local_target(status)
    specs = load_specs([spec])
    events: list[Any] = []
    plan = api.build_plan(specs, target, workspace, emit=events.append)
    result = api.apply(plan, specs, target, events.append, workspace=workspace)
    return result, events


def blob_storm(
    proxied: Any, batch_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    from runner.engine.events import StepRetrying

    status, proxy = proxied
    monkeypatch.chdir(tmp_path)  # the collect folder and the workspace lock live here
    workspace = f"blob-storm-{next(_examples)}"
    keep = {"job": "always", "pool": "always", "containers": "always"}
    hits_seen: list[int] = []

    def spec() -> Path:
        name = f"bstorm-{next(_examples)}"
        return write_spec(tmp_path / name, name, texts={"gale.txt": TEXT}, teardown=keep)

    proxy.set([])
    quiet, _ = run_job(status, spec(), workspace)
    assert quiet.ok, quiet.errors
    quiet_writes = proxy.writes()
    assert quiet_writes > 0, "the runner's Blob requests did not go through the proxy"

    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(blob_rules())
    @example([{"method": "PUT", "fault": "503", "count": 2, "retry_after": 1}])
    @example([{"method": "GET", "fault": "drop", "count": 1}])
    def one(schedule: list[dict[str, Any]]) -> None:
        path = spec()
        proxy.set(schedule)
        result, events = run_job(status, path, workspace)
        hits = proxy.injected()
        writes = proxy.writes()
        proxy.set([])
        assert result.ok, (schedule, result.errors)
        retries = len([e for e in events if isinstance(e, StepRetrying)])
        TOTALS.add(hits, retries)
        hits_seen.append(hits)
        assert retries <= hits, f"{retries} retries for {hits} faults: {schedule}"
        assert writes <= quiet_writes + hits, (writes, quiet_writes, hits)
        assert result.counts["succeeded"] == 1 and result.counts["uploaded"] == 2
        words, _ = read_report(tmp_path / "out" / path.stem / "gale_OUTPUT.txt")
        assert words == reference_top(path.parent / "topwords" / "gale.txt", 3)
        # Teardown ran through the storm too: nothing of the run is left.
        for part in ("job/", "pool/", "container/"):
            assert any(f"/{part}{path.stem}-" in a for a in result.removed), result.removed

    one()
    assert sum(hits_seen) > 0, "no fault was injected: the storm proved nothing"


def test_topwords_apply_converges_under_blob_storms(
    proxied: Any, batch_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob_storm(proxied, batch_client, tmp_path, monkeypatch, 1)


@pytest.mark.chaos
def test_topwords_apply_converges_under_many_blob_storms(
    proxied: Any, batch_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob_storm(proxied, batch_client, tmp_path, monkeypatch, 20)
