"""Jinja2 over spec strings: an immutable sandbox, strict undefined names, ``vars`` and ``env()``.

Only string scalars are rendered, one at a time, so a template error knows its scalar's
position; the error's line inside the template is added to it. Batch task templates keep
their ``{{ file.* }}`` expressions at load time and are rendered per input file later by
``render_task_template``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.utils import missing

from runner.spec.sandbox import BoundedSandbox, render_bounded

TEMPLATE_MARKERS = ("{{", "{%", "{#")
_EXPRESSION = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)
_MARKER = re.compile(r"\{[{%#]")
_STATEMENT = re.compile(r"\{%-?(.*?)-?%\}", re.DOTALL)
_TEMPLATE_NAME = "<spec>"


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
        if obj is not missing:
            return f"{type(obj).__name__} value has no attribute {name!r}"
        if name == "file":
            return "file is defined only in a BatchJob's tasks.id, tasks.command and tasks.outputs"
        return f"undefined name {name!r} (templates see vars and env())"


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
    for on that line to find the column."""

    message: str
    line: int = 1
    needle: str | None = None

    def __str__(self) -> str:
        return self.message


def render(source: str, variables: Mapping[str, Any], **extra: Any) -> str:
    """Render one string with ``vars``, ``env`` and ``extra`` names; raise ``TemplateProblem``."""
    env_ = environment()
    try:
        template = env_.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"template syntax error: {(exc.message or '').rstrip('.')}", exc.lineno or 1
        ) from None
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
        raise TemplateProblem(str(exc), _template_line(exc), _needle(exc)) from None
    except EnvNotSet as exc:
        raise TemplateProblem(str(exc), _template_line(exc), "env(") from None
    except TemplateError as exc:
        raise TemplateProblem(f"template error: {exc}", _template_line(exc)) from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateProblem(f"template error: {exc}", _template_line(exc)) from None


def render_keeping_file(source: str, variables: Mapping[str, Any]) -> str:
    """Render ``vars`` and ``env()`` but keep every ``{{ ... }}`` that uses ``file`` as written.

    The kept text is checked by rendering it once for a sample file, so a bad ``file.*``
    expression is reported at load time rather than when tasks are made.
    """
    sample = FileInfo.of(PurePath("input/sample.txt"))
    if any(re.search(r"\bfile\b", block) for block in _STATEMENT.findall(source)):
        # A {% %} block over file.* cannot be split out: keep it all for per-file rendering.
        render(source, variables, file=sample)
        return source
    kept: list[str] = []

    def hold(match: re.Match[str]) -> str:
        if not _uses_file(match.group(0)):
            return match.group(0)
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    held = _EXPRESSION.sub(hold, source)
    # Markers in the output came from variable values: escape them so the per-file
    # rendering shows them as written instead of running them.
    rendered = _MARKER.sub(lambda m: "{{ '" + m.group(0) + "' }}", render(held, variables))
    result = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], rendered)
    render(result, variables, file=sample)
    return result


def render_task_template(template: str, file: PurePath, variables: Mapping[str, Any]) -> str:
    """Render a task template (``tasks.id``, ``tasks.command``, ``tasks.outputs[*]``) for one
    input file: ``file.name``, ``file.stem``, ``file.suffix``, ``file.path`` and ``vars``."""
    try:
        return render(template, variables, file=FileInfo.of(PurePath(file)))
    except TemplateProblem as exc:
        raise ValueError(f"task template {template!r} for {file}: {exc.message}") from None


def literal_text(source: str) -> str | None:
    """The text of a template outside its ``{{ }}``, ``{% %}`` and ``{# #}`` blocks, as
    written (what every rendering is made around), or None when it does not parse."""
    try:
        return "".join(value for _, kind, value in environment().lex(source) if kind == "data")
    except TemplateSyntaxError:
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


def _uses_file(expression: str) -> bool:
    try:
        parsed = environment().parse(expression)
    except TemplateSyntaxError:
        return False
    return any(name.name == "file" for name in parsed.find_all(nodes.Name))


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
    if str(exc).startswith("file is defined only"):
        return "file"
    match = re.search(r"attribute '([^']+)'|vars\.(\w+)|name '([^']+)'", str(exc))
    if not match:
        return None
    return next(g for g in match.groups() if g)
