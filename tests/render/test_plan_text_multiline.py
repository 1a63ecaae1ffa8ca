"""Text of several lines in a plan (an autoscale formula) reads as a heredoc, one line of
the text per line, as Terraform shows such strings."""

from __future__ import annotations

from runner.plan.action import Action
from runner.plan.model import Address, Change
from runner.render.plan_text import attribute_lines

POOL = Address.batch("words", "pool", "p")
FORMULA = "$TargetDedicatedNodes = 2;\n$NodeDeallocationOption = taskcompletion;"


def texts(change: Change) -> list[str]:
    return [line.text for line in attribute_lines(change)]


def test_a_created_formula_is_shown_line_by_line() -> None:
    change = Change(address=POOL, action=Action.CREATE, after={"autoScale": {"formula": FORMULA}})
    assert texts(change) == [
        "      + autoScale.formula = <<-EOT",
        "            $TargetDedicatedNodes = 2;",
        "            $NodeDeallocationOption = taskcompletion;",
        "        EOT",
    ]


def test_a_changed_formula_shows_the_old_text_then_the_new() -> None:
    old = {"autoScale": {"formula": "$TargetDedicatedNodes = 1;\n$x = 0;"}}
    change = Change(
        address=POOL, action=Action.UPDATE, before=old, after={"autoScale": {"formula": FORMULA}}
    )
    lines = texts(change)
    assert lines[0] == "      - autoScale.formula = <<-EOT"
    assert "            $TargetDedicatedNodes = 1;" in lines
    assert lines[lines.index("        EOT") + 1] == "      + autoScale.formula = <<-EOT"
