"""The workspace name: --workspace, else the folder runner runs in, told apart from every
other folder by its repository's remote and its path in it (or, with no remote, its
absolute path), so two unrelated checkouts that share a folder name never share one."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from runner.engine.workspace import normalise_remote, workspace_name, workspace_root

# An ARM tag value takes 256 characters, a Batch metadata value more; lock files are named
# after it too.
SAFE = re.compile(r"^[A-Za-z0-9._-]{1,63}$")


def repo(path: Path, remote: str | None = None) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if remote is not None:
        subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote], check=True)
    return path


def test_override_wins_and_is_made_tag_safe(tmp_path: Path) -> None:
    assert workspace_name("team a/b", cwd=tmp_path) == "team-a-b"


def test_two_repositories_checked_out_under_one_name_do_not_share_a_workspace(
    tmp_path: Path,
) -> None:
    mine = repo(tmp_path / "alice" / "infra", "https://github.com/alice/infra.git")
    theirs = repo(tmp_path / "bob" / "infra", "git@github.com:bob/infra.git")
    a, b = workspace_name(None, cwd=mine), workspace_name(None, cwd=theirs)
    assert a != b
    assert a.startswith("infra-") and b.startswith("infra-")  # still readable
    assert SAFE.match(a) and SAFE.match(b)


def test_https_and_ssh_forms_of_one_remote_agree_and_credentials_do_not_count(
    tmp_path: Path,
) -> None:
    forms = [
        "https://github.com/acme/infra.git",
        "https://deploy:s3cr3t-token@GitHub.com/acme/infra",
        "git@github.com:acme/infra.git",
        "ssh://git@github.com:22/acme/infra.git/",
    ]
    names = {
        workspace_name(None, cwd=repo(tmp_path / f"clone{i}", url)) for i, url in enumerate(forms)
    }
    assert len(names) == 1
    (name,) = names
    assert name.startswith("infra-") and "s3cr3t" not in name


def test_a_folder_inside_the_repository_is_a_workspace_of_its_own(tmp_path: Path) -> None:
    root = repo(tmp_path / "mono", "https://example.com/acme/mono.git")
    (root / "teams" / "a").mkdir(parents=True)
    at_root = workspace_name(None, cwd=root)
    in_team = workspace_name(None, cwd=root / "teams" / "a")
    assert at_root.startswith("mono-") and in_team.startswith("mono-teams-a-")
    assert at_root != in_team
    assert workspace_name(None, cwd=root) == at_root  # stable
    assert workspace_root(root / "teams") == root.resolve()


def test_without_a_remote_the_absolute_path_tells_folders_apart(tmp_path: Path) -> None:
    one = repo(tmp_path / "one" / "infra")
    two = tmp_path / "two" / "infra"
    two.mkdir(parents=True)  # not a repository at all
    three = tmp_path / "three" / "infra"
    three.mkdir(parents=True)
    names = [workspace_name(None, cwd=p) for p in (one, two, three)]
    assert len(set(names)) == 3
    assert all(n.startswith("infra-") and SAFE.match(n) for n in names)
    assert workspace_name(None, cwd=two) == names[1]


def test_a_long_or_odd_folder_name_still_makes_a_safe_name(tmp_path: Path) -> None:
    folder = tmp_path / ("Ünïcode dir & " + "x" * 80)
    folder.mkdir()
    assert SAFE.match(workspace_name(None, cwd=folder))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/infra.git", "github.com/acme/infra"),
        ("http://user:pw@git.example.com:8080/a/b/infra", "git.example.com/a/b/infra"),
        ("git@github.com:acme/infra.git", "github.com/acme/infra"),
        ("github.com:acme/infra", "github.com/acme/infra"),
        ("ssh://git@[::1]:2222/acme/infra.git", "[::1]/acme/infra"),
        ("file:///srv/git/infra.git", "/srv/git/infra"),
        ("/srv/git/infra.git/", "/srv/git/infra"),
    ],
)
def test_remote_urls_are_normalised(url: str, expected: str) -> None:
    assert normalise_remote(url) == expected


def test_a_relative_path_remote_resolves_from_the_repository(tmp_path: Path) -> None:
    assert normalise_remote("../upstream.git", tmp_path / "clone") == str(
        tmp_path.resolve() / "upstream"
    )
