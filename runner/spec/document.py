"""One YAML document through templates and validation, with every problem located.

pydantic sees plain data; its error locations are turned into ``file:line:col`` through
the document's position tree (for az files, through the conversion's origin map first).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from pydantic import TypeAdapter, ValidationError

from runner.errors import Diagnostic, Span
from runner.spec import azfile
from runner.spec.messages import explain
from runner.spec.models import BatchJob, ContainerGroup, Spec, Workflow
from runner.spec.positions import ParsedDocument, Pos, PositionTree
from runner.spec.templates import (
    TEMPLATE_MARKERS,
    TemplateProblem,
    is_template,
    literal_advice,
    render,
    render_keeping_file,
    variable_references,
)

# Batch task fields rendered per task later: they keep their ``{{ file.* }}`` parts (and a
# sweep's ``item``, ``row``, ``index``).
TASK_TEMPLATE_PATHS = (
    ("tasks", "id"),
    ("tasks", "command"),
    ("tasks", "outputs"),
    ("tasks", "environment"),
    ("tasks", "dependsOn", "taskIds"),
    ("tasks", "dependsOn", "taskIdRanges"),
    ("merge", "inputs"),
)
# A merge task's fields rendered once its inputs are known: they keep their ``inputs``.
MERGE_TEMPLATE_PATHS = (("merge", "command"), ("merge", "outputs"))

# Text with these is a shell's: a template error in it may be shell syntax read as Jinja.
SHELL_SIGNS = ("${", "$(")

Loc = tuple[str | int, ...]
_FIELD_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@lru_cache(maxsize=1)
def _adapter() -> TypeAdapter[Any]:
    return TypeAdapter(cast(Any, Spec))


def locate(positions: PositionTree, loc: Loc, *, at_key: bool = False) -> Pos:
    """Where ``loc`` is in the source: its key when asked (or when its value is a block
    mapping or list), else its value, else its nearest ancestor."""
    pos = positions.keys.get(loc) if at_key else None
    if pos is None:
        pos, found = positions.lookup(loc)
        if pos.end_line > pos.line and found in positions.keys:
            pos = positions.keys[found]
    return pos


def parse_field_path(path: str) -> Loc:
    """``containers[0].cpu`` -> ``("containers", 0, "cpu")``."""
    return tuple(int(index) if index else name for name, index in _FIELD_PART.findall(path))


@dataclass(frozen=True)
class SpecSource:
    """Where a loaded spec came from, to locate errors found after loading (planning)."""

    name: str
    text: str
    positions: PositionTree
    origin: Callable[[Loc], Loc] | None = None  # az files: converted path -> file path

    def diagnostic(self, summary: str, field: str | Loc) -> Diagnostic:
        loc = parse_field_path(field) if isinstance(field, str) else tuple(field)
        where = self.origin(loc) if self.origin else loc
        return diagnostic(self.name, summary, locate(self.positions, where), field_path(where))


def diagnostic(name: str, message: str, pos: Pos, field_path: str = "") -> Diagnostic:
    return Diagnostic(
        summary=message,
        span=Span(name, pos.line, pos.col, pos.end_line, pos.end_col),
        field_path=field_path,
    )


def field_path(loc: Iterable[str | int]) -> str:
    """``("containers", 0, "cpu")`` -> ``containers[0].cpu``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class DocumentLoader:
    """One YAML document through templates and validation, adding diagnostics as it goes."""

    def __init__(
        self,
        doc: ParsedDocument,
        name: str,
        text: str,
        overrides: Mapping[str, Any],
        out: list[Diagnostic],
        *,
        require_collect: bool = True,
    ):
        self.doc = doc
        # A BatchJob document must say where its outputs go; one a workflow step refers
        # to need not: the step's collect replaces it.
        self.require_collect = require_collect
        self.name = name
        self.lines = text.splitlines()
        self.overrides = overrides
        self.out = out
        self.failed: list[Loc] = []
        self.conversion: azfile.AzConversion | None = None
        self.literal = False  # an az file's document: read as written, no templates

    def load(self) -> ContainerGroup | BatchJob | Workflow | None:
        doc = self.doc
        for problem in doc.problems:
            self.out.append(diagnostic(self.name, problem.message, problem.pos))
        if any(p.fatal for p in doc.problems):
            return None
        self.failed.extend(p.path for p in doc.problems if p.path is not None)
        data = doc.data
        if not isinstance(data, dict):
            got = "a list" if isinstance(data, list) else f"{data!r}"
            self._add("a spec document is a mapping that starts with 'kind:', got " + got, ())
            return None
        conversion = None
        if azfile.is_az_document(data):
            # As az reads it: a `{{`, `{#` or `${#VAR}` in a command is the command's text.
            self.literal = True
            conversion = self.conversion = azfile.convert(data, self.overrides)
            for message, az_loc, at_key in conversion.problems:
                self._add(message, az_loc, at_key=at_key)
            data = {**conversion.data, "vars": {}}
        else:
            variables = self._variables(data)
            kind = data.get("kind")
            data = {
                key: value if key == "vars" else self._render(value, (key,), variables, kind)
                for key, value in data.items()
            }
            data["vars"] = variables
        spec = self.validate(data, conversion=conversion)
        if self.require_collect and data.get("kind") == "BatchJob" and data.get("collect") is None:
            # As pydantic says of a required field, after the errors it found.
            if "collect" not in data:
                self._add("missing required field 'collect'", ("collect",), at_key=True, point=())
            else:
                self._add("expected a mapping (key: value), got null", ("collect",))
            return None
        return spec

    def validate(
        self,
        data: Any,
        prefix: Loc = (),
        conversion: azfile.AzConversion | None = None,
    ) -> ContainerGroup | BatchJob | Workflow | None:
        """Validate ``data`` as the spec its ``kind`` names; its problems are located at
        ``prefix`` (a workflow's inline step: ``("steps", "lower", "group")``)."""
        try:
            return cast(ContainerGroup | BatchJob | Workflow, _adapter().validate_python(data))
        except ValidationError as exc:
            self._report(exc, conversion, prefix)
            return None

    def _variables(self, data: dict[str, Any]) -> dict[str, Any]:
        defaults = data.get("vars", {})
        if defaults is None:
            defaults = {}
        if not isinstance(defaults, dict):
            self._add("vars is a mapping of NAME: default value", ("vars",))
            defaults = {}
        return _VariableResolver(self, defaults).resolve()

    def _render(self, value: Any, loc: Loc, variables: Mapping[str, Any], kind: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._render(v, (*loc, k), variables, kind) for k, v in value.items()}
        if isinstance(value, list):
            return [self._render(v, (*loc, i), variables, kind) for i, v in enumerate(value)]
        if not isinstance(value, str) or not is_template(value):
            return value
        batch = batch_field(kind, loc)
        keep_file = batch is not None and any(batch[: len(p)] == p for p in TASK_TEMPLATE_PATHS)
        keep_inputs = batch is not None and any(batch[: len(p)] == p for p in MERGE_TEMPLATE_PATHS)
        try:
            if keep_file:
                return render_keeping_file(value, variables)
            if keep_inputs:
                return render_keeping_file(value, variables, "inputs")
            return render(value, variables)
        except TemplateProblem as exc:
            self.failed.append(loc)
            advice = literal_advice(exc) if _is_shell(value, loc) else None
            if advice is not None:
                exc = TemplateProblem(f"{exc.message}; {advice}", exc.line, needle=exc.block)
            self._template_problem(exc, loc)
            return value

    def _template_problem(self, exc: TemplateProblem, loc: Loc) -> None:
        pos = self.doc.positions.values.get(loc) or self.doc.positions.lookup(loc)[0]
        style = self.doc.positions.scalar_styles.get(loc)
        first = pos.line + (1 if style in ("|", ">") else 0)
        line = min(first + exc.line - 1, max(len(self.lines), 1))
        source = self.lines[line - 1] if self.lines else ""
        col = pos.col if line == pos.line else len(source) - len(source.lstrip()) + 1
        end = col + 1
        start = source.find(exc.needle, col - 1) if exc.needle else -1
        if start < 0 and exc.needle:
            # Folded and multi-line scalars do not keep the template's line breaks: look
            # for the expression in the scalar's own lines.
            for number in range(pos.line, min(pos.end_line, len(self.lines)) + 1):
                found = self.lines[number - 1].find(exc.needle)
                if found >= 0:
                    line, source, start = number, self.lines[number - 1], found
                    break
        if start >= 0 and exc.needle and exc.needle.lstrip("$").startswith(TEMPLATE_MARKERS):
            col, end = start + 1, start + len(exc.needle) + 1  # the block itself
        elif start >= 0:
            opening = source.rfind("{{", 0, start)
            col = (opening if opening >= 0 else start) + 1
            closing = source.find("}}", start)
            end = closing + 3 if closing >= 0 else start + len(exc.needle or "") + 1
        self.out.append(
            diagnostic(self.name, exc.message, Pos(line, col, line, end), field_path(loc))
        )

    def _report(
        self, exc: ValidationError, conversion: azfile.AzConversion | None, prefix: Loc = ()
    ) -> None:
        seen: set[tuple[Loc, str]] = set()
        for error in exc.errors(include_url=False):
            located = explain(error)
            loc, point, at_key = (*prefix, *located.loc), located.point, located.at_key
            if point is not None:
                point = (*prefix, *point)
            if any(loc[: len(f)] == f for f in self.failed):
                continue  # already reported as a template error
            if conversion is not None:
                named = conversion.key_origin.get(loc) if at_key else None
                if named is not None:
                    loc, point, at_key = named, None, False
                else:
                    loc = conversion.az_path(loc)
                    point = None if point is None else conversion.az_path(point)
            if (loc, located.message) in seen:
                continue
            seen.add((loc, located.message))
            self._add(located.message, loc, at_key=at_key, point=point)

    def add(
        self, message: str, loc: Loc, *, at_key: bool = False, point: Loc | None = None
    ) -> None:
        """Report a problem at ``loc`` of this document."""
        self._add(message, loc, at_key=at_key, point=point)

    def _add(
        self, message: str, loc: Loc, *, at_key: bool = False, point: Loc | None = None
    ) -> None:
        where = loc if point is None else point
        pos = locate(self.doc.positions, where, at_key=at_key)
        self.out.append(diagnostic(self.name, message, pos, field_path(loc)))


class _VariableResolver:
    """Renders a spec's ``vars:`` defaults, each once, after the ones it refers to: a chain
    (``a`` uses ``vars.b``, ``b`` uses ``vars.c``) ends in values, never in a template's
    text. A cycle is an error located at its first variable. Defaults that ``--var`` or a
    var file override are not rendered: the override is what the spec sees."""

    def __init__(self, loader: DocumentLoader, defaults: dict[str, Any]):
        self.loader = loader
        self.pending = {k: v for k, v in defaults.items() if k not in loader.overrides}
        self.values: dict[str, Any] = {**defaults, **loader.overrides}
        self.done: set[str] = set()
        self.in_cycle: set[str] = set()

    def resolve(self) -> dict[str, Any]:
        for name in self.pending:
            self._visit(name, [])
        return self.values

    def _visit(self, name: str, path: list[str]) -> None:
        if name in self.done:
            return
        if name in path:
            self._cycle(path[path.index(name) :] + [name])
            return
        path.append(name)
        refs = referenced_variables(self.pending[name])
        for dep in [d for d in self.pending if d in refs]:
            self._visit(dep, path)
        path.pop()
        if name in self.done:
            return  # reached again through a cycle and reported there
        self.done.add(name)
        if name in self.in_cycle:
            return
        loc: Loc = ("vars", name)
        self.values[name] = self.loader._render(self.pending[name], loc, self.values, None)

    def _cycle(self, cycle: list[str]) -> None:
        first, then = cycle[0], cycle[1]
        message = "variables refer to each other in a cycle: " + " -> ".join(cycle)
        if first == then:
            message = f"variable {first} refers to itself: {first} -> {first}"
        self.loader._template_problem(TemplateProblem(message, 1, f"vars.{then}"), ("vars", first))
        self.in_cycle.update(cycle)


def batch_field(kind: Any, loc: Loc) -> Loc | None:
    """Where ``loc`` is inside a BatchJob's fields (a BatchJob document's, or a workflow's
    inline ``steps.<name>.batch``), or None when it is not in one."""
    if kind == "BatchJob":
        return loc
    if kind == "Workflow" and len(loc) >= 3 and loc[0] == "steps" and loc[2] == "batch":
        return loc[3:]
    return None


def _is_shell(text: str, loc: Loc) -> bool:
    """A command (a container's, a Batch task's or start task's) or text with ``${``/``$(``."""
    return "command" in loc or any(sign in text for sign in SHELL_SIGNS)


def referenced_variables(value: Any) -> set[str]:
    """The ``vars.NAME`` names the templates anywhere in ``value`` read."""
    if isinstance(value, str):
        return variable_references(value) if is_template(value) else set()
    if isinstance(value, dict):
        return set().union(*map(referenced_variables, value.values()))
    if isinstance(value, list):
        return set().union(*map(referenced_variables, value))
    return set()
