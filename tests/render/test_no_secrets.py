"""Whatever a plan or an event carries under a secure key, no renderer prints it."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.engine.events import StepFinished
from runner.plan.action import Action
from runner.plan.model import Change, Plan
from runner.render.json import JsonRenderer
from runner.render.plan_text import plan_text

# A marker prefix, so a secret cannot be a word the output holds anyway.
secrets = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1
).map(lambda s: "S3cr3t#" + s)
actions = st.sampled_from([a for a in Action])


def group(token: str, key_file: str) -> dict:
    return {
        "containers": [{"name": "app", "image": "x", "secureEnv": {"TOKEN": token}}],
        "volumes": [{"name": "v", "secret": {"key.pem": key_file}, "azureFile": None}],
    }


@settings(max_examples=60, deadline=None)
@given(action=actions, old=secrets, new=secrets, key_file=secrets)
def test_secure_values_never_reach_text_or_json(
    action: Action, old: str, new: str, key_file: str
) -> None:
    change = Change(
        address="ContainerGroup/rg/web",
        action=action,
        before=group(old, key_file),
        after=group(new, key_file),
        paths=("containers[app].secureEnv.TOKEN",),
    )
    plan = Plan(workspace="w", changes=(change,))
    stream = io.StringIO()
    renderer = JsonRenderer(stream)
    renderer.plan(plan)
    renderer.emit(StepFinished("ContainerGroup/rg/web", "update", "ok", detail={"secret": new}))
    outputs = [plan_text(plan), stream.getvalue()]
    for text in outputs:
        for value in (old, new, key_file):
            assert value not in text
            assert json.dumps(value)[1:-1] not in text  # nor its JSON-escaped spelling
