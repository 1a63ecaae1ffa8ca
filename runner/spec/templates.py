"""Jinja2 over spec strings: an immutable sandbox, strict undefined names, ``vars`` and ``env()``.

Only string scalars are rendered, one at a time, so a template error knows its scalar's
position; the error's line inside the template is added to it. Batch task templates keep
their expressions over ``file`` (an input file), ``item``, ``row`` and ``index`` (a sweep's)
at load time and are rendered per task later by ``render_task_template``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.utils import missing

from runner.spec.sandbox import BoundedSandbox, render_bounded
from runner.spec.sweeps import RowFields, SweepItem, TaskOrigin

TEMPLATE_MARKERS = ("{{", "{%", "{#")
_EXPRESSION = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)
_MARKER = re.compile(r"\{[{%#]")
_STATEMENT = re.compile(r"\{%-?(.*?)-?%\}", re.DOTALL)
_TEMPLATE_NAME = "<spec>"
_UNDEFINED_NAME = "undefined name {!r} (templates see vars and env())"
# A failing block longer than this is named by its marker alone in advice.
_MAX_BLOCK = 40
_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
# How a row that lacks a field a template uses is told (a rows file's problem, not the spec's).
ROW_FIELD_MISSING = "the row has no field"
# What a mapped task's templates may name besides vars and env(): its input file, or its
# sweep item or row and place in the sweep. Each is there for one kind of tasks only.
TASK_NAMES = ("file", "item", "row", "index")
_TASK_FIELDS = (
    "tasks.id, tasks.command, tasks.outputs, tasks.environment, tasks.dependsOn and merge.inputs"
)
_ONLY_IN = {
    "file": f"file is defined only in a BatchJob's {_TASK_FIELDS}, with tasks.forEachFile",
    "item": (
        f"item is defined only in a BatchJob's {_TASK_FIELDS}, with tasks.forEach.values "
        "or tasks.forEach.range"
    ),
    "row": f"row is defined only in a BatchJob's {_TASK_FIELDS}, with tasks.forEach.rows",
    "index": f"index is defined only in a BatchJob's {_TASK_FIELDS}, with tasks.forEach",
}


class Vars(dict[str, Any]):
    """The ``vars`` mapping, marked so an unknown name gets a message listing the known ones."""


class EnvNotSet(TemplateError):
    pass


class SpecUndefined(StrictUndefined):
    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        name = self._undefined_name
        obj = self._undefined_obj
        if isinstance(obj, Vars):
            known = ", ".join(sorted(obj)) or "none"
            return f"undefined variable vars.{name} (defined: {known}; set one with --var)"
        if isinstance(obj, FileInfo):
            return (
                f"file has no attribute {name!r} "
                "(use file.name, file.stem, file.suffix or file.path)"
            )
        if isinstance(obj, RowFields):
            known = ", ".join(obj) or "none"
            return f"{ROW_FIELD_MISSING} {name!r} (its fields: {known})"
        if obj is not missing:
            return f"{type(obj).__name__} value has no attribute {name!r}"
        if name == "inputs":
            return "inputs is defined only in a BatchJob's merge.command and merge.outputs"
        if name in _ONLY_IN:
            return _ONLY_IN[name]
        return _UNDEFINED_NAME.format(name)


@dataclass(frozen=True)
class FileInfo:
    """What a task template sees of one input file."""

    name: str
    stem: str
    suffix: str
    path: str

    @classmethod
    def of(cls, file: PurePath) -> FileInfo:
        return cls(file.name, file.stem, file.suffix, file.as_posix())

    def __str__(self) -> str:
        return self.path


_MISSING = object()


def env(name: str, default: Any = _MISSING) -> Any:
    """``env('NAME', default)``: an environment variable; unset and no default is an error."""
    value = os.environ.get(name)
    if value is not None:
        return value
    if default is _MISSING:
        raise EnvNotSet(
            f"environment variable {name} is not set (set it, or give a default: "
            f"env('{name}', 'value'))"
        )
    return default


@lru_cache(maxsize=1)
def environment() -> BoundedSandbox:
    return BoundedSandbox(undefined=SpecUndefined, autoescape=False, keep_trailing_newline=True)


def is_template(text: str) -> bool:
    return any(marker in text for marker in TEMPLATE_MARKERS)


@dataclass
class TemplateProblem(Exception):
    """A template failed. ``line`` is 1-based inside the template; ``needle`` is text to look
    for on that line to find the column. ``block`` is the template text that failed when it
    could be text that was never meant as a template (a ``{#`` never closed, ``{{ x }}``
    naming something unknown): what to keep as written (see ``literal_advice``)."""

    message: str
    line: int = 1
    needle: str | None = None
    block: str | None = None

    def __str__(self) -> str:
        return self.message


def render(source: str, variables: Mapping[str, Any], **extra: Any) -> str:
    """Render one string with ``vars``, ``env`` and ``extra`` names; raise ``TemplateProblem``."""
    env_ = environment()
    try:
        template = env_.from_string(source)
    except TemplateSyntaxError as exc:
        message = f"template syntax error: {(exc.message or '').rstrip('.')}"
        failing = _failing_block(source)
        if failing is None:
            raise TemplateProblem(message, exc.lineno or 1) from None
        raise TemplateProblem(message, failing[1], block=failing[0]) from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        # Jinja folds constant expressions while compiling, so `{{ 1 ~ 1[0] }}` fails here,
        # before any variable is seen.
        raise TemplateProblem(f"template error: {exc}", _template_line(exc)) from None
    context = {"vars": Vars(variables), "env": env, **extra}
    try:
        return render_bounded(template, context)
    except SecurityError as exc:
        message = f"template blocked by the sandbox: {str(exc).rstrip('.')}"
        raise TemplateProblem(message, _template_line(exc), _needle(exc)) from None
    except UndefinedError as exc:
        needle = _needle(exc)
        block = None
        if needle is not None and str(exc) == _UNDEFINED_NAME.format(needle):
            block = _expression_naming(source, needle)
        raise TemplateProblem(str(exc), _template_line(exc), needle, block) from None
    except EnvNotSet as exc:
        raise TemplateProblem(str(exc), _template_line(exc), "env(") from None
    except TemplateError as exc:
        raise TemplateProblem(f"template error: {exc}", _template_line(exc)) from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateProblem(f"template error: {exc}", _template_line(exc)) from None


# What a kept name stands for when a kept template is checked at load time.
_SAMPLES: dict[str, Any] = {
    "file": FileInfo.of(PurePath("input/sample.txt")),
    "inputs": ["task-1/sample.txt", "task-2/sample.txt"],
}


def render_keeping_file(
    source: str, variables: Mapping[str, Any], names: str | tuple[str, ...] = TASK_NAMES
) -> str:
    """Render ``vars`` and ``env()`` but keep every ``{{ ... }}`` that uses one of
    ``names`` (a mapped task's ``file``, ``item``, ``row``, ``index``, or a merge task's
    ``inputs``) as written.

    The kept text is checked by rendering it once for a sample value, so a bad ``file.*``
    expression is reported at load time rather than when tasks are made. A sweep's items
    and rows are known only once its values or rows file are: text naming them is parsed
    here and rendered, per task, by the file checks (``spec/files.py``).
    """
    names = (names,) if isinstance(names, str) else names
    if any(
        re.search(rf"\b{name}\b", block) for block in _STATEMENT.findall(source) for name in names
    ):
        # A {% %} block over file.* cannot be split out: keep it all for per-task rendering.
        _check_sample(source, variables)
        return source
    kept: list[str] = []

    def hold(match: re.Match[str]) -> str:
        if not any(_uses_name(match.group(0), name) for name in names):
            return match.group(0)
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    held = _EXPRESSION.sub(hold, source)
    # Markers in the output came from variable values: escape them so the per-task
    # rendering shows them as written instead of running them.
    rendered = _MARKER.sub(lambda m: "{{ '" + m.group(0) + "' }}", render(held, variables))
    result = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], rendered)
    _check_sample(result, variables)
    return result


def _check_sample(source: str, variables: Mapping[str, Any]) -> None:
    if any(_names_in(source, name) for name in ("item", "row", "index")):
        try:
            environment().parse(source)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(f"template syntax error: {exc.message}", exc.lineno) from None
        return
    render(source, variables, **{k: v for k, v in _SAMPLES.items() if _names_in(source, k)})


def _names_in(source: str, name: str) -> bool:
    try:
        parsed = environment().parse(source)
    except TemplateSyntaxError:
        return False
    return any(found.name == name for found in parsed.find_all(nodes.Name))


def task_names(origin: TaskOrigin) -> dict[str, Any]:
    """What a mapped task's templates see of what it is made from."""
    if isinstance(origin, SweepItem):
        return origin.names()
    return {"file": FileInfo.of(PurePath(origin))}


def render_task_template(template: str, origin: TaskOrigin, variables: Mapping[str, Any]) -> str:
    """Render a task template (``tasks.id``, ``tasks.command``, ``tasks.outputs[*]``, ...)
    for one task: for an input file ``file.name``, ``file.stem``, ``file.suffix`` and
    ``file.path``; for a sweep item ``item`` or ``row``, and ``index``; ``vars`` always."""
    try:
        return render(template, variables, **task_names(origin))
    except TemplateProblem as exc:
        raise ValueError(f"task template {template!r} for {origin}: {exc.message}") from None


def render_merge_template(
    template: str, inputs: Sequence[str], variables: Mapping[str, Any]
) -> str:
    """Render a merge task template (``merge.command``, ``merge.outputs[*]``): ``inputs``
    is the list of the files it receives, as paths in its working directory."""
    try:
        return render(template, variables, inputs=list(inputs))
    except TemplateProblem as exc:
        raise ValueError(f"merge template {template!r}: {exc.message}") from None


def literal_text(source: str) -> str | None:
    """The text of a template outside its ``{{ }}``, ``{% %}`` and ``{# #}`` blocks, as
    written (what every rendering is made around), or None when it does not parse."""
    try:
        return "".join(value for _, kind, value in environment().lex(source) if kind == "data")
    except TemplateSyntaxError:
        return None


def literal_advice(problem: TemplateProblem) -> str | None:
    """How to keep the block that failed as written, for text meant for a shell: its
    marker as a Jinja string (``{{ '{#' }}``), or the text in a ``{% raw %}`` block. Both
    are plain Jinja the sandbox allows, and both survive a BatchJob's per-file rendering."""
    if problem.block is None:
        return None
    marker = problem.block.lstrip("$")[:2]
    escaped = problem.block.replace(marker, "{{ '" + marker + "' }}", 1)
    return (
        f"to keep {problem.block} as written, write {escaped} "
        "or wrap the text in {% raw %}...{% endraw %}"
    )


def _failing_block(source: str) -> tuple[str, int] | None:
    """The block a syntax error is in and its line: the one the lexer stopped in, else one
    left open at the end, else the first ``{{ }}`` that does not parse on its own."""
    env_ = environment()
    offset, opened, is_open = 0, -1, False
    expressions: list[tuple[int, int]] = []
    try:
        for _, kind, value in env_.lex(source):
            if kind.endswith("_begin"):
                opened, is_open = offset, True
            elif kind.endswith("_end"):
                is_open = False
                if source.startswith("{{", opened):
                    expressions.append((opened, offset + len(value)))
            offset += len(value)
    except TemplateSyntaxError:
        return _block_at(source, opened)
    if is_open:
        return _block_at(source, opened)
    for start, end in expressions:
        try:
            env_.parse(source[start:end])
        except TemplateSyntaxError:
            return _block_at(source, start, end)
    return None


def _block_at(source: str, start: int, end: int | None = None) -> tuple[str, int] | None:
    """The block opened at ``start``: to ``end``, else to its closing marker when near,
    else to the next blank; with the ``$`` before it (``${#T}``), so advice shows the
    shell's text."""
    # Whitespace control (`{%-`) makes the lexer's text shorter than the source: then the
    # offset misses the marker and no block is named.
    marker = source[start : start + 2]
    if start < 0 or marker not in TEMPLATE_MARKERS:
        return None
    if end is None:
        closing = source.find(_CLOSERS[marker], start + 2)
        blank = re.search(r"\s", source[start:])
        end = start + blank.start() if blank else len(source)
        if 0 <= closing < start + _MAX_BLOCK:
            end = closing + 2
    if start and source[start - 1] == "$":
        start -= 1
    block = source[start:end]
    if len(block) > _MAX_BLOCK:
        block = source[start : start + (3 if block.startswith("$") else 2)]
    return block, source.count("\n", 0, start) + 1


def _expression_naming(source: str, name: str) -> str | None:
    """The first ``{{ }}`` (with a ``$`` before it) that names ``name``."""
    for match in _EXPRESSION.finditer(source):
        if re.search(rf"(?<![\w.]){re.escape(name)}\b", match.group(1)):
            start, end = match.span()
            found = _block_at(source, start, end)
            return found[0] if found else None
    return None


def variable_references(source: str) -> set[str]:
    """The names a template reads as ``vars.NAME`` or ``vars['NAME']``. Names picked at
    render time (``vars[key]``) cannot be known here; a syntax error gives none (rendering
    reports it)."""
    try:
        parsed = environment().parse(source)
    except TemplateSyntaxError:
        return set()
    names: set[str] = set()
    for node in parsed.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr) and _is_vars(node.node):
            names.add(node.attr)
        elif isinstance(node, nodes.Getitem) and _is_vars(node.node):
            key = node.arg.value if isinstance(node.arg, nodes.Const) else None
            if isinstance(key, str):
                names.add(key)
    return names


def _is_vars(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "vars"


def _uses_name(expression: str, name: str) -> bool:
    try:
        parsed = environment().parse(expression)
    except TemplateSyntaxError:
        return False
    return any(found.name == name for found in parsed.find_all(nodes.Name))


def _template_line(exc: BaseException) -> int:
    """Jinja rewrites tracebacks so template frames carry the template's own line numbers."""
    line = 1
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _needle(exc: BaseException) -> str | None:
    for name, message in _ONLY_IN.items():
        if str(exc) == message:
            return name
    match = re.search(r"attribute '([^']+)'|field '([^']+)'|vars\.(\w+)|name '([^']+)'", str(exc))
    if not match:
        return None
    return next(g for g in match.groups() if g)
