"""Provenance: every resource carries the commit and path of the spec it came from, a
commit that changes no spec plans as "No changes", and ``runner status`` names the drift
from HEAD with what applying it would change."""

from __future__ import annotations

import re
from typing import Any

import pytest
from git_repo import git

pytestmark = pytest.mark.integration


def drift_line(out: str) -> str:
    lines = [line for line in out.splitlines() if "made from" in line]
    assert len(lines) == 1, out
    return re.sub(r"\s+", " ", lines[0])


def test_tags_carry_the_commit_and_status_names_the_drift_from_head(
    cli: Any, names: dict[str, str], test_image: str, spec: Any, aci_client: Any, cleanup: list
) -> None:
    repo = cli.cwd
    git(repo, "init", "-q")
    web = repo / "specs" / "web.yaml"
    web.parent.mkdir()
    # The test's names as the spec's defaults: read alone (status with no path), it names
    # the same group.
    text = spec("single").read_text()
    for var, value in {**names, "image": test_image}.items():
        text = re.sub(rf"^  {var}: .*$", f"  {var}: {value}", text, flags=re.MULTILINE)
    web.write_text(text)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "web")
    first = git(repo, "rev-parse", "HEAD")
    cleanup.append(web)
    args = ["specs/web.yaml", "--workspace", cli.workspace]

    cli("apply", "--yes", *args).expect(0)
    tags = aci_client.container_groups.get(names["rg"], names["name"]).tags
    assert tags["runner-commit"] == first
    assert tags["runner-source"] == "specs/web.yaml"
    assert not any("tok-default-0000" in v for v in tags.values())  # the spec's secure value
    status = cli("status", *args).expect(0).out
    assert first[:7] in status and "made from" not in status

    (repo / "README").write_text("a commit that changes no spec\n")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "readme")
    second = git(repo, "rev-parse", "HEAD")
    assert "No changes." in cli("plan", *args).expect(0).out
    line = drift_line(cli("status", *args).expect(0).out)
    assert line == (
        f"specs/web.yaml: made from {first[:7]}, HEAD is {second[:7]}; "
        "applying it would change nothing (No changes)"
    )
    # With no path, the spec each resource names is read from the checkout.
    assert drift_line(cli("status", "--workspace", cli.workspace).expect(0).out) == line

    web.write_text(web.read_text().replace("greeting: hello", "greeting: bonjour"))
    line = drift_line(cli("status", *args).expect(0).out)
    assert f"HEAD is {second[:7]}-dirty" in line
    assert "No changes" not in line and re.search(r"would (update|replace) 1$", line), line

    git(repo, "commit", "-q", "-am", "bonjour")
    third = git(repo, "rev-parse", "HEAD")
    cli("apply", "--yes", *args).expect(0)
    tags = aci_client.container_groups.get(names["rg"], names["name"]).tags
    assert tags["runner-commit"] == third
    assert "made from" not in cli("status", *args).expect(0).out
