"""Saved plans (``runner plan -out FILE``, ``runner apply --plan FILE``).

A saved plan records the spec paths and variable files it was made from and the plan
itself. Values given with ``--var`` are not stored, since they may be secret: pass them
again to ``apply``. Applying a saved plan builds a fresh one and refuses to go on unless
both are the same, so nothing that changed since (live state or specs) is applied unseen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import RunnerError

if TYPE_CHECKING:
    from runner.plan.model import Plan

MAGIC = "runner-saved-plan"
VERSION = 1


@dataclass(frozen=True)
class SavedPlan:
    paths: tuple[str, ...]
    var_files: tuple[str, ...]
    workspace: str
    target: str | None
    plan: dict[str, Any]
    prune: bool = False
    refresh: bool = False
    rerun_failed: bool = False
    rerun: tuple[str, ...] = ()


def write(
    file: str | Path,
    plan: Plan,
    *,
    paths: list[str],
    var_files: tuple[str, ...],
    workspace: str,
    target: str | None,
    prune: bool = False,
    refresh: bool = False,
    rerun_failed: bool = False,
    rerun: tuple[str, ...] = (),
) -> None:
    doc = {
        "format": MAGIC,
        "version": VERSION,
        "paths": paths,
        "var_files": [str(Path(f).resolve()) for f in var_files],
        "workspace": workspace,
        "target": target,
        "prune": prune,
        "refresh": refresh,
        "rerun_failed": rerun_failed,
        "rerun": list(rerun),
        "plan": plan.model_dump(mode="json"),
    }
    Path(file).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


# Far above any plan runner writes; the bound is there so that a device is never read
# without end (a named pipe or a device is refused before it is opened).
MAX_PLAN_BYTES = 256 * 1024 * 1024


def read(file: str | Path) -> SavedPlan:
    from runner.spec.source import SourceProblem, read_bounded

    try:
        doc = json.loads(read_bounded(Path(file), str(file), MAX_PLAN_BYTES).decode("utf-8"))
    except SourceProblem as exc:
        raise RunnerError(f"cannot read saved plan {file}: {exc.diagnostic.summary}") from None
    except ValueError as exc:
        raise RunnerError(f"cannot read saved plan {file}: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != MAGIC:
        raise RunnerError(f"{file} is not a plan saved by `runner plan -out`")
    if doc.get("version") != VERSION:
        raise RunnerError(f"{file}: saved plan version {doc.get('version')} is not supported")
    return SavedPlan(
        paths=tuple(doc["paths"]),
        var_files=tuple(doc["var_files"]),
        workspace=doc["workspace"],
        target=doc.get("target"),
        plan=doc["plan"],
        prune=bool(doc.get("prune", False)),
        refresh=bool(doc.get("refresh", False)),
        rerun_failed=bool(doc.get("rerun_failed", False)),
        rerun=tuple(str(n) for n in doc.get("rerun") or ()),
    )


def _without_cost(plan: dict[str, Any]) -> dict[str, Any]:
    # Prices are not live state: a price source that answers differently at apply time
    # (the Retail Prices API, a new table) does not make the changes stale.
    return {k: v for k, v in plan.items() if k != "cost"}


def check_still_valid(saved: SavedPlan, fresh: Plan, file: str | Path) -> None:
    if _without_cost(fresh.model_dump(mode="json")) != _without_cost(saved.plan):
        from runner.plan.stale import changed_files

        files = changed_files(saved.plan, fresh)
        if files:
            raise RunnerError(
                f"the saved plan {file} is stale: local files changed since it was made: "
                f"{', '.join(files)}. Run `runner plan` again and review the new plan."
            )
        raise RunnerError(
            f"the saved plan {file} is stale: live state or the specs changed since it was "
            "made. Run `runner plan` again and review the new plan."
        )
