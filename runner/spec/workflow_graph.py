"""What a workflow's steps say of each other, checked before anything runs: the steps they
need exist and need no cycle, inputs come from outputs that are declared, and no two
steps collect into the same folder. Pure: each problem is a message and the path of the
entry to point at."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from runner.spec.workflow import Workflow

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Edge:
    """``step`` waits for ``needs``, as the entry at ``loc`` says (a needs entry, or an
    input's from)."""

    step: str
    needs: str
    loc: Loc


@dataclass(frozen=True)
class GraphProblem:
    message: str
    loc: Loc


def edges(workflow: Workflow) -> list[Edge]:
    """Every need, named or implied by a ``from`` input, in step order."""
    found: list[Edge] = []
    for name, step in workflow.steps.items():
        for i, need in enumerate(step.needs):
            found.append(Edge(name, need, ("steps", name, "needs", i)))
        for input_name, source in step.inputs.items():
            if source.step:
                found.append(Edge(name, source.step, ("steps", name, "inputs", input_name, "from")))
    return found


def step_needs(workflow: Workflow) -> dict[str, tuple[str, ...]]:
    """Each step's needs, named and implied, in step order, without duplicates."""
    order = list(workflow.steps)
    needs: dict[str, set[str]] = {name: set() for name in order}
    for edge in edges(workflow):
        if edge.needs in needs and edge.needs != edge.step:
            needs[edge.step].add(edge.needs)
    return {name: tuple(n for n in order if n in needs[name]) for name in order}


def graph_problems(workflow: Workflow) -> list[GraphProblem]:
    return [
        *_reference_problems(workflow),
        *_cycles(workflow),
        *_collect_overlaps(workflow),
    ]


def _reference_problems(workflow: Workflow) -> Iterator[GraphProblem]:
    steps = workflow.steps
    for name, step in steps.items():
        for i, need in enumerate(step.needs):
            loc: Loc = ("steps", name, "needs", i)
            if need == name:
                yield GraphProblem(f"step {name!r} needs itself", loc)
            elif need not in steps:
                yield GraphProblem(
                    f"step {name!r} needs unknown step {need!r}{_steps_hint(need, steps)}", loc
                )
        for input_name, source in step.inputs.items():
            if source.from_ is None:
                continue
            loc = ("steps", name, "inputs", input_name, "from")
            parts = source.from_.split(".")
            if len(parts) != 2 or not all(parts):
                yield GraphProblem(
                    f"from takes <step>.<output> (such as lower.lowered), got {source.from_!r}",
                    loc,
                )
                continue
            other, output = parts
            if other == name:
                yield GraphProblem(
                    f"step {name!r} takes input {input_name!r} from its own output {output!r}",
                    loc,
                )
            elif other not in steps:
                yield GraphProblem(
                    f"input {input_name!r} comes from unknown step {other!r}"
                    f"{_steps_hint(other, steps)}",
                    loc,
                )
            elif output not in steps[other].outputs:
                declared = ", ".join(steps[other].outputs)
                has = f"its outputs: {declared}" if declared else "it declares no outputs"
                yield GraphProblem(f"step {other!r} has no output {output!r} ({has})", loc)


def _steps_hint(name: str, steps: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(name, list(steps), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (steps: {', '.join(steps)})"


def _cycles(workflow: Workflow) -> Iterator[GraphProblem]:
    """Each cycle once, written from its step that comes first in the workflow and
    pointing at that step's entry that needs the next."""
    order = {name: i for i, name in enumerate(workflow.steps)}
    graph: dict[str, list[Edge]] = {name: [] for name in order}
    for edge in edges(workflow):
        if edge.needs in graph and edge.needs != edge.step:
            graph[edge.step].append(edge)
    seen: set[frozenset[tuple[str, str]]] = set()
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> Iterator[GraphProblem]:
        path.append(name)
        for edge in graph[name]:
            if edge.needs in path:
                cycle = path[path.index(edge.needs) :]
                start = min(range(len(cycle)), key=lambda i: order[cycle[i]])
                cycle = cycle[start:] + cycle[:start]
                key = frozenset(zip(cycle, cycle[1:] + cycle[:1], strict=True))
                if key not in seen:
                    seen.add(key)
                    first = next(e for e in graph[cycle[0]] if e.needs == cycle[1])
                    text = " -> ".join([*cycle, cycle[0]])
                    yield GraphProblem(f"steps need each other in a cycle: {text}", first.loc)
            elif edge.needs not in done:
                yield from visit(edge.needs)
        path.pop()
        done.add(name)

    for name in order:
        if name not in done:
            yield from visit(name)


def _collect_overlaps(workflow: Workflow) -> Iterator[GraphProblem]:
    earlier: list[tuple[str, str, str]] = []  # step, dir as written, dir normalised
    for name, step in workflow.steps.items():
        if step.collect is None:
            continue
        written = step.collect.dir
        folder = os.path.normcase(os.path.abspath(written))
        loc = ("steps", name, "collect", "dir")
        for other, other_written, other_folder in earlier:
            if folder == other_folder:
                how = f"the folder step {other!r} collects into"
            elif _inside(folder, other_folder):
                how = f"inside {other_written!r}, where step {other!r} collects"
            elif _inside(other_folder, folder):
                how = f"which holds {other_written!r}, where step {other!r} collects"
            else:
                continue
            yield GraphProblem(
                f"step {name!r} collects into {written!r}, {how}: steps collect into "
                "folders of their own, apart from each other",
                loc,
            )
            break
        earlier.append((name, written, folder))


def _inside(folder: str, parent: str) -> bool:
    return os.path.commonpath([folder, parent]) == parent
