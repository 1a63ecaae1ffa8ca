"""The example specs shipped in specs/ (the Azure sample's three shapes) apply on the local
target as written, with only their image variables pointed at local stand-ins."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

WAIT = 60.0  # an upper bound on waiting for a container's output, never a timing assert


def test_single_app_example_runs_with_its_dns_label(
    cli: Any,
    example: Any,
    sample_images: dict[str, str],
    unique_name: Any,
    cleanup: list[Path],
) -> None:
    cleanup.append(example("aci-hello"))
    rg, label = unique_name("ex-rg"), unique_name("hello")
    args = [str(example("aci-hello")), "--workspace", cli.workspace]
    args += ["--var", f"image={sample_images['hello']}", "--var", f"resourceGroup={rg}"]
    args += ["--var", f"dnsLabel={label}"]

    cli("apply", "--yes", *args).expect(0)
    cli("plan", "--detailed-exitcode", *args).expect(0)
    rows = json.loads(cli("status", "--output", "json", *args).expect(0).out)
    assert rows[0]["address"] == f"ContainerGroup/{rg}/aci-hello"
    assert rows[0]["state"] == "Running"
    assert label in (rows[0]["detail"].get("fqdn") or "")


def test_sidecar_example_reaches_the_app(
    cli: Any,
    example: Any,
    sample_images: dict[str, str],
    unique_name: Any,
    cleanup: list[Path],
) -> None:
    cleanup.append(example("aci-sidecar"))
    args = [str(example("aci-sidecar")), "--workspace", cli.workspace]
    args += ["--var", f"appImage={sample_images['hello']}"]
    args += ["--var", f"sidecarImage={sample_images['sidecar']}"]
    args += ["--var", f"resourceGroup={unique_name('ex-rg')}"]
    args += ["--var", f"dnsLabel={unique_name('side')}"]

    cli("apply", "--yes", *args).expect(0)
    logs, deadline = "", time.monotonic() + WAIT
    while "sidecar-polled" not in logs and time.monotonic() < deadline:
        logs = cli("logs", *args, "--container", "sidecar").expect(0).out
        time.sleep(0.3)
    assert "hello-from-aci" in logs
    assert "sidecar-polled" in logs


def test_wordcount_example_collects_its_output_and_goes_away(
    cli: Any, example: Any, sample_images: dict[str, str], unique_name: Any, aci_client: Any
) -> None:
    rg = unique_name("ex-rg")
    args = [str(example("aci-wordcount")), "--workspace", cli.workspace]
    args += ["--var", f"image={sample_images['wordcount']}", "--var", f"resourceGroup={rg}"]

    cli("apply", "--yes", *args).expect(0)

    collected = cli.cwd / "out" / "aci-wordcount"
    texts = "".join(p.read_text() for p in collected.rglob("*") if p.is_file())
    url = "http://shakespeare.mit.edu/romeo_juliet/full.html"
    assert f"wordcount wordcount.py {url} NumWords=5 MinLength=8" in texts
    listed = {g.name for g in aci_client.container_groups.list_by_resource_group(rg)}
    assert "aci-wordcount" not in listed  # teardown: onSuccess
