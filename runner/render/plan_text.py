"""A plan as Terraform-like text: legend, one block per resource, orphans, a count line.

Lines carry a style name (from ``wording.STYLES``) instead of colour codes, so the same
lines print plainly into files and golden tests and in colour on a terminal.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from runner.plan.action import Action
from runner.plan.model import Change, Plan
from runner.render.cost_text import estimate_lines
from runner.render.redact import SECRET_KEYS, SENSITIVE
from runner.render.wording import (
    LEGEND,
    NO_CHANGES,
    NO_CHANGES_BUT_CONFLICTS,
    STYLES,
    SYMBOLS,
    count_line,
    wording,
)

# Beyond this many changes of one action under one parent (Batch tasks, blobs), the text
# shows the first few and a count; ``--output json`` always carries every change.
FOLD_ABOVE = 10
FOLD_KEEP = 3


@dataclass(frozen=True)
class Line:
    text: str
    style: str | None = None


@dataclass(frozen=True)
class Folded:
    parent: str
    action: Action
    count: int


def _fold_key(change: Change) -> tuple[str, Action]:
    return str(change.address.parent), change.action


def fold(changes: Iterable[Change]) -> list[Change | Folded]:
    changes = list(changes)
    sizes = Counter(_fold_key(c) for c in changes)
    shown: Counter[tuple[str, Action]] = Counter()
    out: list[Change | Folded] = []
    for change in changes:
        key = _fold_key(change)
        if sizes[key] <= FOLD_ABOVE or shown[key] < FOLD_KEEP:
            out.append(change)
        elif shown[key] == FOLD_KEEP:
            out.append(Folded(key[0], key[1], sizes[key] - FOLD_KEEP))
        shown[key] += 1
    return out


def folded_line(item: Folded) -> Line:
    what = LEGEND.get(item.action, "unchanged")
    return Line(f"  ... and {item.count} more under {item.parent}: {what}", STYLES[item.action])


def flatten(value: Any, prefix: str = "", secret: bool = False) -> dict[str, Any]:
    """Leaf paths of a canonical form, spelled as the planner spells ``replace_paths``:
    ``containers[web].image`` for lists of named items, ``[0]`` for other lists of objects;
    lists of scalars stay whole."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, sub in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten(sub, path, secret or key in SECRET_KEYS))
        return out
    if isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        named = all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in value)
        out = {}
        for i, sub in enumerate(value):
            out.update(flatten(sub, f"{prefix}[{sub['name'] if named else i}]", secret))
        return out
    return {prefix: SENSITIVE if secret and value not in ({}, None) else value}


def show(value: Any) -> str:
    if value == SENSITIVE:
        return SENSITIVE
    return json.dumps(value, ensure_ascii=False)


def forces_replacement(path: str, replace_paths: tuple[str, ...]) -> bool:
    return any(path == rp or path.startswith((rp + ".", rp + "[")) for rp in replace_paths)


def _assigned(sign: str, path: str, value: Any, mark: str, style: str) -> Iterator[Line]:
    """``<sign> path = value``; text of several lines (an autoscale formula) as a
    heredoc, one line of it per line, as Terraform shows such strings."""
    if not _multiline(value):
        return iter([Line(f"      {sign} {path} = {show(value)}{mark}", style)])
    lines = [Line(f"      {sign} {path} = <<-EOT{mark}", style)]
    lines += [Line(f"            {text}", style) for text in value.splitlines()]
    lines.append(Line("        EOT", style))
    return iter(lines)


def attribute_lines(change: Change) -> Iterator[Line]:
    before = flatten(change.before) if change.before else {}
    after = flatten(change.after) if change.after else {}
    if change.action is Action.CREATE:
        for path, value in after.items():
            if value not in (None, [], {}):  # defaults left empty say nothing new
                yield from _assigned("+", path, value, "", "green")
        return
    if change.action not in (Action.UPDATE, Action.REPLACE):
        return
    paths = list(after) + [p for p in before if p not in after]
    changed = set(change.paths)
    for path in paths:
        mark = "  # forces replacement" if forces_replacement(path, change.replace_paths) else ""
        if path not in before:
            yield from _assigned("+", path, after[path], mark, "green")
        elif path not in after:
            if before[path] not in (None, [], {}):
                yield from _assigned("-", path, before[path], mark, "red")
        elif before[path] != after[path]:
            if _multiline(before[path]) or _multiline(after[path]):
                yield from _assigned("-", path, before[path], mark, "red")
                yield from _assigned("+", path, after[path], mark, "green")
                continue
            old, new = show(before[path]), show(after[path])
            yield Line(f"      ~ {path} = {old} -> {new}{mark}", "yellow")
        elif path in changed:
            # Equal on both sides yet changed: a secure value, seen only by its fingerprint.
            yield Line(f"      ~ {path} = {show(after[path])}{mark}", "yellow")


def _multiline(value: Any) -> bool:
    return isinstance(value, str) and value != SENSITIVE and "\n" in value


def change_lines(change: Change) -> Iterator[Line]:
    words = wording(change.action, change.reason)
    yield Line(f"  # {change.address} {words.headline}", "bold")
    if words.comment:
        yield Line(f"  # ({words.comment})", "dim")
    yield Line(f"{SYMBOLS[change.action]} {change.address}", STYLES[change.action])
    yield from attribute_lines(change)


def plan_lines(plan: Plan) -> list[Line]:
    lines: list[Line] = []
    acting = [c for c in plan.changes if c.action is not Action.NOOP]
    used = {c.action for c in acting}
    if used:
        lines.append(Line("Resource actions are indicated with the following symbols:"))
        for action, meaning in LEGEND.items():
            if action in used:
                lines.append(Line(f"{SYMBOLS[action]} {meaning}", STYLES[action]))
        lines.append(Line(""))
        header = "runner will perform the following actions:"
        if not plan.has_changes:
            header = "runner found resources it will not touch:"
        lines.append(Line(header, "bold"))
        for item in fold(acting):
            lines.append(Line(""))
            if isinstance(item, Folded):
                lines.append(folded_line(item))
            else:
                lines.extend(change_lines(item))
        lines.append(Line(""))
    unchanged = [c for c in plan.changes if c.action is Action.NOOP]
    if unchanged:
        lines.append(Line("Unchanged:", "bold"))
        for item in fold(unchanged):
            if isinstance(item, Folded):
                lines.append(Line(f"    ... and {item.count} more under {item.parent}", "dim"))
                continue
            note = f": {item.reason}" if item.reason else ""
            lines.append(Line(f"    {item.address}{note}", "dim"))
        lines.append(Line(""))
    planned = {c.address for c in plan.changes}
    orphans = [o for o in plan.orphans if o not in planned]
    if orphans:
        lines.append(
            Line(
                f"Orphans (tagged with workspace {plan.workspace!r} but in no spec; "
                "apply --prune destroys them):",
                "bold",
            )
        )
        lines.extend(Line(f"    {orphan}", "red") for orphan in orphans)
        lines.append(Line(""))
    conflicts = sum(1 for c in plan.changes if c.action is Action.CONFLICT)
    if conflicts:
        noun = "resource" if conflicts == 1 else "resources"
        lines.append(Line(f"{conflicts} {noun} in conflict will not be touched.", "magenta"))
    if plan.has_changes:
        lines.append(Line(count_line(plan.counts()), "bold"))
    elif conflicts:
        lines.append(Line(NO_CHANGES_BUT_CONFLICTS, "bold magenta"))
    else:
        lines.append(Line(NO_CHANGES, "bold green"))
    if plan.cost is not None:
        lines.append(Line(""))
        lines.extend(Line(text, style) for text, style in estimate_lines(plan.cost))
    return lines


def plan_text(plan: Plan) -> str:
    return "".join(line.text + "\n" for line in plan_lines(plan))
