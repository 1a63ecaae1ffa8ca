"""Drift from HEAD, for ``runner status``: which resources of a spec were made from a commit
other than the one checked out, and what applying the checkout would change.

The commits come from the status rows (``commit`` detail, read from the resources' tags);
what applying would change is the planner's own answer (``build_plan``), so ``status``
says no more and no less than ``plan`` would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.backends.target import Target
from runner.engine.api import build_plan
from runner.engine.provenance import Provenance, git_state
from runner.engine.result import StatusRow
from runner.errors import RunnerError
from runner.plan.action import Action
from runner.plan.model import Address
from runner.plan.observed import group_address
from runner.plan.provenance import commit_text
from runner.spec.loader import LoadedSpec, load_specs
from runner.spec.models import ContainerGroup


@dataclass(frozen=True)
class Drift:
    source: str  # the spec's path as given, or from the repository root
    made_from: tuple[str, ...]  # each other commit found, full sha (-dirty appended)
    head: str  # the checkout's commit, the same way
    changes: dict[str, int] | None  # what applying it would do: action -> count
    addresses: tuple[str, ...]  # the rows made from another commit
    unplanned: str = ""  # why there is no plan to say what applying would change

    @property
    def line(self) -> str:
        made = ", ".join(_short(c) for c in self.made_from)
        if self.changes is None:
            return f"{self.source}: made from {made}, HEAD is {_short(self.head)}; {self.unplanned}"
        if self.changes:
            would = ", ".join(f"{action} {n}" for action, n in self.changes.items())
        else:
            would = "change nothing (No changes)"
        head = _short(self.head)
        return f"{self.source}: made from {made}, HEAD is {head}; applying it would {would}"


def _short(commit: str) -> str:
    sha, dirty, _ = commit.partition("-dirty")
    return commit_text(sha, bool(dirty))


def _root(loaded: LoadedSpec) -> Address:
    spec = loaded.spec
    if isinstance(spec, ContainerGroup):
        return group_address(spec.resource_group, spec.name).folded()
    return Address.batch(spec.name).folded()


def drift(
    specs: Sequence[LoadedSpec], rows: Sequence[StatusRow], target: Target, *, workspace: str
) -> list[Drift]:
    """One ``Drift`` per spec with a resource made from another commit than the
    checkout's (its commit, ``-dirty`` when the tree holds changes); a spec outside git,
    or whose resources carry no commit, has none."""
    provenance = Provenance()
    by_root: dict[Address, list[StatusRow]] = {}
    for row in rows:
        by_root.setdefault(Address.parse(row.address).root.folded(), []).append(row)
    found: list[Drift] = []
    for loaded in specs:
        stamp = provenance.stamp(loaded)
        if stamp.commit is None:
            continue
        head = stamp.commit + ("-dirty" if stamp.dirty else "")
        old = [
            r
            for r in by_root.get(_root(loaded), [])
            if r.detail.get("commit") and r.detail["commit"] != head
        ]
        if not old:
            continue
        made_from = tuple(dict.fromkeys(str(r.detail["commit"]) for r in old))
        source = stamp.source or str(loaded.path)
        addresses = tuple(r.address for r in old)
        try:
            plan = build_plan([loaded], target, workspace)
        except RunnerError as exc:
            # Status still shows the drift: the plan's own error is for ``runner plan``.
            unplanned = f"it cannot be planned ({exc})"
            found.append(Drift(source, made_from, head, None, addresses, unplanned))
            continue
        counts = Counter(str(c.action) for c in plan.changes if c.action.changes_anything)
        conflicts = sum(1 for c in plan.changes if c.action is Action.CONFLICT)
        if conflicts:
            counts["leave in conflict"] = conflicts
        found.append(Drift(source, made_from, head, dict(sorted(counts.items())), addresses))
    return found


def with_drift(rows: Sequence[StatusRow], drifts: Sequence[Drift]) -> list[StatusRow]:
    """The rows, each made from another commit carrying its spec's drift line."""
    lines = {a: d.line for d in drifts for a in d.addresses}
    return [
        StatusRow(r.address, r.kind, r.state, {**r.detail, "drift": lines[r.address]})
        if r.address in lines
        else r
        for r in rows
    ]


def workspace_drift(
    rows: Sequence[StatusRow], target: Target, *, workspace: str, cwd: Path | None = None
) -> list[Drift]:
    """Drift of a whole workspace (``runner status`` with no path): each spec named by a
    resource's ``source`` is read from the checkout of the repository holding ``cwd``,
    with its default variables, and planned as ``drift`` does; a spec that is gone or
    needs variables is named without a plan."""
    state = git_state(cwd or Path.cwd())
    if state is None or state.head is None:
        return []
    head = state.head + ("-dirty" if state.dirty else "")
    old: dict[str, list[StatusRow]] = {}
    for row in rows:
        commit, source = row.detail.get("commit"), row.detail.get("source")
        if commit and source and commit != head:
            old.setdefault(str(source), []).append(row)
    found: list[Drift] = []
    for source, made in sorted(old.items()):
        path = state.root / source
        why = "its spec is not in the checkout"
        if path.is_file():
            why = "its spec names other resources with its default variables: give it to status"
            try:
                planned = drift(load_specs([str(path)]), rows, target, workspace=workspace)
            except RunnerError:
                planned = []
                why = "its spec cannot be read with its default variables: give it to status"
            found += planned
            covered = {a for d in planned for a in d.addresses}
            made = [r for r in made if r.address not in covered]
            if not made:
                continue
        found.append(
            Drift(
                source=source,
                made_from=tuple(dict.fromkeys(str(r.detail["commit"]) for r in made)),
                head=head,
                changes=None,
                addresses=tuple(r.address for r in made),
                unplanned=why,
            )
        )
    return found
