"""The ``Stamp`` an apply writes on what it makes: the git commit of each spec (marked
dirty when the working tree held changes), its path in the repository, and its expiry.

Git is asked once per repository (``GitState``); a spec outside any repository carries
no commit and no path, only its expiry. Nothing of the spec's content is read here, so
no secure value can reach a tag.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from runner.plan.model import Address
from runner.plan.observed import group_address, rg_address
from runner.plan.provenance import Stamp, merged
from runner.spec.models import BatchJob, ContainerGroup, Workflow

if TYPE_CHECKING:
    from runner.spec.loader import LoadedSpec

GIT_TIMEOUT = 10.0


@dataclass(frozen=True)
class GitState:
    root: Path
    head: str | None  # None in a repository with no commit yet
    dirty: bool  # tracked files differ from HEAD (git describe --dirty's rule)


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def git_state(folder: Path) -> GitState | None:
    """The repository holding ``folder``; None outside git (or without git)."""
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None or top.returncode != 0 or not top.stdout.strip():
        return None
    root = Path(top.stdout.strip())
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    sha = head.stdout.strip() if head is not None and head.returncode == 0 else None
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    dirty = status is None or status.returncode != 0 or bool(status.stdout.strip())
    return GitState(root=root, head=sha or None, dirty=dirty)


def _tracked(state: GitState, relative: str) -> bool:
    out = _git(state.root, "ls-files", "--error-unmatch", "--", relative)
    return out is not None and out.returncode == 0


class Provenance:
    """Stamps for the specs of one command; git is read once per repository."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)
        self._repos: dict[Path, GitState | None] = {}

    def repository(self, path: Path) -> GitState | None:
        folder = path.resolve().parent if path.is_file() else path.resolve()
        if folder not in self._repos:
            self._repos[folder] = git_state(folder)
        return self._repos[folder]

    def stamp(self, loaded: LoadedSpec, ttl: timedelta | None = None) -> Stamp:
        """``ttl`` (``--ttl``) wins over the spec's own."""
        spec = loaded.spec
        own = None if isinstance(spec, Workflow) else spec.ttl  # a workflow's steps have one
        ttl = ttl if ttl is not None else own
        expires = self.now + ttl if ttl is not None else None
        path = Path(loaded.path)
        state = self.repository(path)
        if state is None:
            return Stamp(expires=expires)
        try:
            relative = path.resolve().relative_to(state.root.resolve())
        except ValueError:
            return Stamp(expires=expires)
        source = str(PurePosixPath(*relative.parts))
        # A spec git does not track is not in the commit either: its resources came
        # from a working tree that differs from HEAD.
        dirty = state.dirty or not _tracked(state, source)
        return Stamp(commit=state.head, dirty=dirty, source=source, expires=expires)


def stamps_for(
    specs: Sequence[LoadedSpec], ttl: timedelta | None = None, now: datetime | None = None
) -> dict[Address, Stamp]:
    """By folded address: each container group's and BatchJob's stamp, and each resource
    group's, merged from the groups in it."""
    provenance = Provenance(now)
    out: dict[Address, Stamp] = {}
    by_rg: dict[Address, list[Stamp]] = {}
    for loaded in specs:
        spec = loaded.spec
        if isinstance(spec, ContainerGroup):
            stamp = provenance.stamp(loaded, ttl)
            out[group_address(spec.resource_group, spec.name).folded()] = stamp
            by_rg.setdefault(rg_address(spec.resource_group).folded(), []).append(stamp)
        elif isinstance(spec, BatchJob):
            out[Address.batch(spec.name).folded()] = provenance.stamp(loaded, ttl)
    for address, stamps in by_rg.items():
        out[address] = merged(stamps)
    return out
