"""The workspace name: --workspace, else the git repository's folder, else the cwd's."""

from __future__ import annotations

import subprocess
from pathlib import Path

from runner.engine.workspace import workspace_name, workspace_root


def test_override_wins_and_is_made_tag_safe(tmp_path: Path) -> None:
    assert workspace_name("team a/b", cwd=tmp_path) == "team-a-b"


def test_git_repository_folder_names_the_workspace(tmp_path: Path) -> None:
    repo = tmp_path / "my-project"
    (repo / "specs" / "deep").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert workspace_name(None, cwd=repo / "specs" / "deep") == "my-project"
    assert workspace_root(repo / "specs") == repo.resolve()


def test_outside_git_the_folder_names_the_workspace(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    assert workspace_name(None, cwd=folder) == "plain"
