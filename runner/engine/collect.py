"""What a finished run leaves behind, and whether teardown removes the group.

Collect files: ``<container>.log`` per container and ``exit_codes.json``, in the spec's
collect folder (relative to the working directory); no name may lead outside it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from runner.errors import PermanentError
from runner.plan.observed import ObservedContainerGroup
from runner.spec.models import ContainerGroup


def finished(group: ObservedContainerGroup) -> bool:
    """The run is over: the group says so, or (without a group state) every container
    has terminated."""
    if group.instance_state is not None:
        return group.finished
    return bool(group.containers) and all(c.state == "Terminated" for c in group.containers)


def exit_codes(spec: ContainerGroup, group: ObservedContainerGroup) -> dict[str, int | None]:
    states = {c.name: c for c in group.containers}
    return {
        ct.name: states[ct.name].exit_code if ct.name in states else None for ct in spec.containers
    }


def failures(codes: Mapping[str, int | None]) -> str:
    """``""`` when every container exited 0, else what went wrong, container by container."""
    bad = {n: c for n, c in codes.items() if c != 0}
    return ", ".join(
        f"{n} exited with {c}" if c is not None else f"{n} has no exit code"
        for n, c in sorted(bad.items())
    )


def collect_dir(spec: ContainerGroup, cwd: Path) -> Path:
    base = (cwd / spec.collect_dir).resolve()
    base.mkdir(parents=True, exist_ok=True)
    return base


def write_codes(base: Path, codes: Mapping[str, int | None]) -> str:
    return safe_write(base, "exit_codes.json", json.dumps(dict(codes), indent=2) + "\n")


def safe_write(base: Path, name: str, text: str) -> str:
    """Writes ``base/name``, refusing any name that would land outside ``base``."""
    path = (base / name).resolve()
    if base.resolve() not in path.parents:
        raise PermanentError(f"refusing to write {name!r} outside {base}")
    path.write_text(text)
    return str(path)


def removes(spec: ContainerGroup, ok: bool) -> bool:
    """The teardown policy: ``always``; ``onSuccess`` for a run that succeeded; ``never``.
    A long-running group (restart ``Always``) is only removed by ``always`` after a failure
    or cancel: a successful apply of a service leaves it running."""
    if spec.teardown == "always":
        return spec.runs_to_completion or not ok
    return spec.teardown == "onSuccess" and ok and spec.runs_to_completion
