"""With no --workspace, the workspace is the folder runner runs in: two unrelated
repositories checked out under the same folder name, on one subscription, never touch
each other's groups, and ``destroy`` with no spec finds what ``apply`` made there."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def checkout(where: Path, remote: str, spec: Path) -> Path:
    """A repository with ``specs/web.yaml``, as a clone of ``remote`` would be."""
    (where / "specs").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(where)], check=True)
    subprocess.run(["git", "-C", str(where), "remote", "add", "origin", remote], check=True)
    shutil.copy(spec, where / "specs" / "web.yaml")
    return where


def group_names(aci_client: Any, rg: str) -> set[str]:
    return {
        g.name
        for g in aci_client.container_groups.list()
        if g.id.split("/")[4].lower() == rg.lower()
    }


def test_destroy_in_one_checkout_leaves_the_other_repositorys_group_running(
    cli: Any,
    tmp_path: Path,
    names: dict[str, str],
    test_image: str,
    spec: Any,
    aci_client: Any,
    resource_client: Any,
) -> None:
    rg = names["rg"]
    # The same CLI with no --workspace, run from each checkout.
    ours = dataclasses.replace(
        cli,
        cwd=checkout(
            tmp_path / "alice" / "infra", "https://example.com/alice/infra.git", spec("single")
        ),
    )
    theirs = dataclasses.replace(
        cli,
        cwd=checkout(tmp_path / "bob" / "infra", "git@example.com:bob/infra.git", spec("single")),
    )
    web = ["specs/web.yaml", "--var", f"rg={rg}", "--var", f"image={test_image}"]
    try:
        ours("apply", "--yes", *web, "--var", "name=ours").expect(0)
        theirs("apply", "--yes", *web, "--var", "name=theirs").expect(0)
        assert group_names(aci_client, rg) == {"ours", "theirs"}

        run = ours("destroy", "--yes").expect(0)
        assert f"ContainerGroup/{rg}/ours" in run.out
        assert f"ContainerGroup/{rg}/theirs: Destroying" not in run.out
        assert group_names(aci_client, rg) == {"theirs"}

        rows = json.loads(theirs("status", "--output", "json").expect(0).out)
        assert [r["address"] for r in rows] == [f"ContainerGroup/{rg}/theirs"]
        plan = json.loads(theirs("plan", "--output", "json", *web, "--var", "name=theirs").out)
        assert plan["workspace"].startswith("infra-")  # readable, yet its own
        assert not plan["orphans"]

        theirs("destroy", "--yes").expect(0)
        assert group_names(aci_client, rg) == set()
    finally:
        for name in group_names(aci_client, rg):
            aci_client.container_groups.begin_delete(rg, name)
        if resource_client.resource_groups.check_existence(rg):
            resource_client.resource_groups.begin_delete(rg)
