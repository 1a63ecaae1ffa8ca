"""The stamp an apply writes: the commit of the spec's repository (dirty when the tree
holds changes or the spec is not committed), its path from the root, and its expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from git_repo import git

from runner.engine.drift import Drift
from runner.engine.provenance import Provenance, stamps_for
from runner.plan.model import Address
from runner.spec.loader import LoadedSpec, load_specs

SPEC = """\
kind: ContainerGroup
name: web
resourceGroup: rg
{ttl}containers:
  - {{name: app, image: busybox, cpu: 1, memoryInGB: 0.5}}
"""
NOW = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)


def spec_in(folder: Path, ttl: str = "") -> LoadedSpec:
    path = folder / "specs" / "web.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SPEC.format(ttl=f"ttl: {ttl}\n" if ttl else ""))
    (loaded,) = load_specs([str(path)])
    return loaded


def test_committed_spec_carries_head_and_its_path_from_the_root(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    loaded = spec_in(tmp_path, ttl="2s")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "one")
    stamp = Provenance(NOW).stamp(loaded)
    assert stamp.commit == git(tmp_path, "rev-parse", "HEAD")
    assert not stamp.dirty
    assert stamp.source == "specs/web.yaml"
    assert stamp.expires == NOW + timedelta(seconds=2)


def test_changed_or_uncommitted_spec_is_dirty(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "README").write_text("x")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "one")
    untracked = spec_in(tmp_path)
    assert Provenance(NOW).stamp(untracked).dirty
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "two")
    assert not Provenance(NOW).stamp(untracked).dirty
    (tmp_path / "README").write_text("changed")
    assert Provenance(NOW).stamp(untracked).dirty


def test_ttl_option_wins_and_outside_git_only_the_expiry_is_kept(tmp_path: Path) -> None:
    loaded = spec_in(tmp_path, ttl="2s")
    stamps = stamps_for([loaded], ttl=timedelta(hours=1), now=NOW)
    group = stamps[Address.container_group("rg", "web").folded()]
    assert group.expires == NOW + timedelta(hours=1)
    assert group.commit is None and group.source is None
    assert stamps[Address.resource_group("rg").folded()] == group


def test_drift_line_names_the_commits_and_what_applying_would_do() -> None:
    old, head = "a" * 40, "b" * 40 + "-dirty"
    planned = Drift("specs/web.yaml", (old,), head, {"update": 1}, ("ContainerGroup/rg/web",))
    assert planned.line == (
        "specs/web.yaml: made from aaaaaaa, HEAD is bbbbbbb-dirty; applying it would update 1"
    )
    unplanned = Drift("specs/gone.yaml", (old,), head, None, (), "its spec is not in the checkout")
    assert unplanned.line.endswith("HEAD is bbbbbbb-dirty; its spec is not in the checkout")
