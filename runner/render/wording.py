"""The words and symbols of a plan, in one table, so every renderer says the same thing.

Symbols are three characters wide so addresses line up (Terraform's convention). ``start``
has no Terraform equivalent: ``>`` reads as "play", and it cannot be confused with a diff
sign.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.plan.action import Action

SYMBOLS: dict[Action, str] = {
    Action.CREATE: "  +",
    Action.UPDATE: "  ~",
    Action.REPLACE: "-/+",
    Action.START: "  >",
    Action.DELETE: "  -",
    Action.CONFLICT: "  !",
    Action.NOOP: "   ",
}

# Legend entries, in the order they are listed.
LEGEND: dict[Action, str] = {
    Action.CREATE: "create",
    Action.UPDATE: "update in place",
    Action.REPLACE: "destroy and then create replacement",
    Action.START: "start (definition unchanged, run again)",
    Action.DELETE: "destroy",
    Action.CONFLICT: "conflict (not made by this workspace; never touched)",
}

# Style names shared by renderers; only ``human`` maps them to colours.
STYLES: dict[Action, str] = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.REPLACE: "red",
    Action.START: "cyan",
    Action.DELETE: "red",
    Action.CONFLICT: "magenta",
    Action.NOOP: "dim",
}


@dataclass(frozen=True)
class Wording:
    headline: str  # follows the address: "# <address> will be created"
    comment: str = ""  # an extra "# (...)" line under the headline


# Keyed by (action, reason). A reason not listed here falls back to the action's entry
# with the reason itself as the comment, so the planner can add reasons freely.
WORDING: dict[tuple[Action, str], Wording] = {
    (Action.CREATE, ""): Wording("will be created"),
    (Action.UPDATE, ""): Wording("will be updated in place"),
    (Action.REPLACE, ""): Wording("must be replaced"),
    (Action.START, ""): Wording("will be started"),
    (Action.DELETE, ""): Wording("will be destroyed"),
    (Action.CONFLICT, ""): Wording("exists but was not made by this workspace"),
    (Action.NOOP, ""): Wording("is up to date"),
    (Action.DELETE, "not in the specs (pruned)"): Wording(
        "will be destroyed", "owned by this workspace but no longer in the specs"
    ),
    (Action.REPLACE, "InvalidContainerGroupUpdate"): Wording(
        "must be replaced", "Azure refused an update in place (InvalidContainerGroupUpdate)"
    ),
}


def wording(action: Action, reason: str) -> Wording:
    exact = WORDING.get((action, reason))
    if exact is not None:
        return exact
    base = WORDING[(action, "")]
    return Wording(base.headline, reason or base.comment)


def count_line(counts: dict[str, int]) -> str:
    return (
        f"Plan: {counts.get('add', 0)} to add, {counts.get('change', 0)} to change, "
        f"{counts.get('start', 0)} to start, {counts.get('destroy', 0)} to destroy."
    )


NO_CHANGES = "No changes. Live state matches the specs."
NO_CHANGES_BUT_CONFLICTS = "No changes. Live state matches the specs, except for the conflicts."

# Step verbs for progress lines: (in progress, done).
STEP_VERBS: dict[str, tuple[str, str]] = {
    "create": ("Creating", "Creation complete"),
    "update": ("Modifying", "Modifications complete"),
    "replace": ("Replacing", "Replacement complete"),
    "start": ("Starting", "Start complete"),
    "delete": ("Destroying", "Destruction complete"),
    "wait": ("Waiting", "Wait complete"),
    "poll": ("Waiting", "Wait complete"),
    "collect": ("Collecting", "Collection complete"),
    "teardown": ("Tearing down", "Teardown complete"),
    "upload": ("Uploading", "Upload complete"),
    "add tasks": ("Adding tasks", "Tasks added"),
    "remove stale tasks": ("Removing tasks to run again", "Stale tasks removed"),
}


def step_verbs(step: str) -> tuple[str, str]:
    return STEP_VERBS.get(step, (step.capitalize(), f"{step.capitalize()} complete"))


# How a command's result line names it: ``Apply complete!``; ``gc`` is an abbreviation.
COMMAND_TITLES: dict[str, str] = {"gc": "Garbage collection"}


def command_title(command: str) -> str:
    return COMMAND_TITLES.get(command, command.capitalize())
