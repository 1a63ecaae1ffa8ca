"""A workflow's steps as the specs they run: an inline body validated as its kind inside
the workflow's document (its problems located at ``steps.<name>.group.<field>``), a
referenced file loaded by the caller; then what the steps say of each other
(``runner.spec.workflow_graph``). Every problem goes through the document's loader."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runner.spec.base import GROUP_NAME
from runner.spec.document import (
    DocumentLoader,
    Loc,
    SpecSource,
    field_path,
    referenced_variables,
)
from runner.spec.loaded import LoadedSpec, LoadedStep
from runner.spec.models import BatchJob, ContainerGroup, Step, Workflow
from runner.spec.workflow_graph import graph_problems, step_needs

# Loads a step's ``spec:`` file (name, step); None once its problems are reported.
ReferenceLoader = Callable[[str, Step], LoadedSpec | None]

KIND_OF_BODY = {"group": "ContainerGroup", "batch": "BatchJob"}
MAX_NAME = 63

# Fields an inline body does not take, and why.
_NOT_INLINE = {
    "kind": "remove kind: a step's {body} is a {kind}",
    "vars": (
        "an inline step sees the workflow's vars: set them in the workflow's vars (a step "
        "written in a file of its own, spec:, takes vars of its own)"
    ),
    "collect": (
        "a step's collect goes on the step (steps.{step}.collect), beside {body}: it says "
        "which of the step's outputs come down"
    ),
}


def load_steps(
    workflow: Workflow,
    document: DocumentLoader,
    owner: tuple[Path, int, SpecSource],
    load_reference: ReferenceLoader,
) -> tuple[LoadedStep, ...] | None:
    """The steps of ``workflow`` (loaded from ``document``, of the file and document number
    ``owner`` gives), or None once their problems are reported."""
    before = len(document.out)
    specs: dict[str, LoadedSpec] = {}
    for name, step in workflow.steps.items():
        if step.body == "spec":
            loaded = load_reference(name, step)
        else:
            loaded = _inline(workflow, name, step, document, owner)
        if loaded is not None:
            specs[name] = loaded
    for problem in graph_problems(workflow):
        document.add(problem.message, problem.loc)
    _check_unique_names(workflow, specs, document)
    if len(document.out) > before:
        return None
    needs = step_needs(workflow)
    return tuple(
        LoadedStep(
            name=name,
            needs=needs[name],
            loaded=specs[name],
            inputs=dict(step.inputs),
            outputs=dict(step.outputs),
            collect=(
                None
                if step.collect is None
                else step.collect.model_copy(
                    update={"outputs": step.collect.outputs or list(step.outputs.values())}
                )
            ),
            field_path=f"steps.{name}",
            reference=step.spec,
        )
        for name, step in workflow.steps.items()
    )


def _inline(
    workflow: Workflow,
    name: str,
    step: Step,
    document: DocumentLoader,
    owner: tuple[Path, int, SpecSource],
) -> LoadedSpec | None:
    body_key = step.body
    kind = KIND_OF_BODY[body_key]
    prefix: Loc = ("steps", name, body_key)
    written: dict[str, Any] = (step.group if body_key == "group" else step.batch) or {}
    ok = True
    for key, why in _NOT_INLINE.items():
        if key in written:
            document.add(why.format(body=body_key, kind=kind, step=name), (*prefix, key))
            ok = False
    body = {k: v for k, v in written.items() if k not in _NOT_INLINE}
    if "name" not in body:
        body["name"] = f"{workflow.name}-{name}"
        if len(body["name"]) > MAX_NAME or not GROUP_NAME.match(body["name"]):
            document.add(
                f"the step's {kind} is named {body['name']!r} (<workflow>-<step>) unless "
                f"{body_key}.name says otherwise, and that is over {MAX_NAME} characters: "
                f"give {body_key}.name",
                prefix,
                at_key=True,
            )
            document.failed.append((*prefix, "name"))  # said here, not again by the model
            ok = False
    if kind == "BatchJob":
        storage = body.get("storage")
        if storage is None:
            body["storage"] = {"account": workflow.storage.account}
        elif isinstance(storage, dict):
            body["storage"] = {"account": workflow.storage.account, **storage}
    spec = document.validate({"kind": kind, **body, "vars": workflow.vars}, prefix)
    if spec is None or not ok:
        return None
    path, index, source = owner
    return LoadedSpec(spec, path, index, source, field_prefix=field_path(prefix))


def _check_unique_names(
    workflow: Workflow, specs: dict[str, LoadedSpec], document: DocumentLoader
) -> None:
    """Two steps running one container group or one Batch job would run into each other."""
    seen: dict[tuple[str, ...], str] = {}
    for name, loaded in specs.items():
        spec = loaded.spec
        if isinstance(spec, ContainerGroup):
            key: tuple[str, ...] = ("ContainerGroup", spec.resource_group.lower(), spec.name)
        elif isinstance(spec, BatchJob):
            key = ("BatchJob", spec.name)
        else:
            continue
        if key in seen:
            step = workflow.steps[name]
            loc: Loc = ("steps", name, step.body)
            if step.body != "spec" and "name" in (step.group or step.batch or {}):
                loc = (*loc, "name")
            fix = (
                "template the file's name with a var the steps set"
                if step.body == "spec"
                else f"give {step.body}.name"
            )
            document.add(
                f"step {name!r} runs {spec.kind} {spec.name!r}, as step {seen[key]!r} does: "
                f"each step runs a spec of a name of its own ({fix})",
                loc,
            )
        else:
            seen[key] = name


def check_step_vars(
    data: Any,
    variables: Mapping[str, Any],
    step_name: str,
    reference: str,
    document: DocumentLoader,
) -> None:
    """A step's var that its file (``data``, as parsed) neither defines nor reads changes
    nothing: a typo, said at the var in the workflow."""
    data = data if isinstance(data, dict) else {}
    defaults = data.get("vars")
    known = set(defaults if isinstance(defaults, dict) else {}) | referenced_variables(data)
    for var in variables:
        if var not in known:
            listed = ", ".join(sorted(known)) or "none"
            document.add(
                f"step {step_name!r} sets vars.{var}, which {reference} neither defines "
                f"nor uses (its vars: {listed})",
                ("steps", step_name, "vars", var),
                at_key=True,
            )
