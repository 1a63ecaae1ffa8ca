"""Loading specs: YAML with positions, Jinja over string values, then pydantic validation.

Every problem of every file is gathered and raised as one ``SpecError`` whose diagnostics
point at ``file:line:col``; the loaded texts travel with it so snippets can be drawn.
Variables: a spec's ``vars:`` defaults, overridden by ``--var-file`` files (in order),
overridden by ``--var NAME=VALUE``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from pydantic import TypeAdapter, ValidationError

from runner.errors import Diagnostic, Span, SpecError
from runner.spec import azfile
from runner.spec.messages import explain
from runner.spec.models import BatchJob, ContainerGroup, Spec
from runner.spec.positions import ParsedDocument, Pos, PositionTree, YamlError, parse_documents
from runner.spec.source import SourceProblem, decode_source, read_source
from runner.spec.templates import TemplateProblem, is_template, render, render_keeping_file

SPEC_SUFFIXES = (".yaml", ".yml")
STDIN, STDIN_NAME = "-", "<stdin>"
# Batch task fields rendered per input file later: they keep their ``{{ file.* }}`` parts.
TASK_TEMPLATE_PATHS = (("tasks", "id"), ("tasks", "command"), ("tasks", "outputs"))

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class LoadedSpec:
    """One validated spec document. ``index`` is the document's 0-based number in its file."""

    spec: ContainerGroup | BatchJob
    path: Path
    index: int

    @property
    def base_dir(self) -> Path:
        """The spec file's folder: input files named in the spec are relative to it."""
        return self.path.resolve().parent


@lru_cache(maxsize=1)
def _adapter() -> TypeAdapter[Any]:
    return TypeAdapter(cast(Any, Spec))


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given; folders become every ``*.yaml``/``*.yml`` under them, sorted."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(
                sorted(f for f in p.rglob("*") if f.suffix in SPEC_SUFFIXES and f.is_file())
            )
        else:
            files.append(p)
    return list(dict.fromkeys(files))


def load_specs(
    paths: Sequence[str | Path],
    variables: Mapping[str, str] | None = None,
    var_files: Sequence[str | Path] = (),
) -> list[LoadedSpec]:
    """Load and validate every spec under ``paths`` (``-`` reads standard input); raise
    ``SpecError`` with all problems."""
    session = _Session()
    overrides = session.var_files(var_files)
    overrides.update(variables or {})
    files = expand_paths(paths)
    if not files:
        raise SpecError([Diagnostic(summary="no spec files (*.yaml, *.yml) found in the paths")])
    for file in files:
        if str(file) == STDIN:
            session.load_source(sys.stdin.buffer.read(), Path(STDIN_NAME), STDIN_NAME, overrides)
        else:
            session.load_file(file, str(file), overrides)
    return session.finish()


def load_text(
    text: str | bytes,
    name: str = "<stdin>",
    variables: Mapping[str, Any] | None = None,
) -> list[LoadedSpec]:
    """Load specs from text (stdin, tests); ``name`` is used in diagnostics and as the path."""
    session = _Session()
    session.load_source(text, Path(name), name, dict(variables or {}))
    return session.finish()


class _Session:
    """Gathers loaded specs and diagnostics across files."""

    def __init__(self) -> None:
        self.loaded: list[tuple[LoadedSpec, PositionTree, str]] = []
        self.diagnostics: list[Diagnostic] = []
        self.sources: dict[str, str] = {}

    def finish(self) -> list[LoadedSpec]:
        self._check_unique_names()
        if self.diagnostics:
            files = list(dict.fromkeys(d.span.file if d.span else "" for d in self.diagnostics))

            def order(d: Diagnostic) -> tuple[int, int, int]:
                if d.span is None:
                    return (files.index(""), 0, 0)
                return (files.index(d.span.file), d.span.line, d.span.col)

            raise SpecError(sorted(self.diagnostics, key=order), self.sources)
        return [loaded for loaded, _, _ in self.loaded]

    def var_files(self, var_files: Sequence[str | Path]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for vf in var_files:
            name = str(vf)
            text = self._read(Path(vf), name)
            if text is None:
                continue
            docs = self._parse(text, name)
            for doc in docs or []:
                self._yaml_problems(doc, name)
                if not isinstance(doc.data, dict):
                    self._add(name, "a var file is a mapping of NAME: value", doc.positions.root)
                    continue
                merged.update(doc.data)
        return merged

    def load_file(self, path: Path, name: str, overrides: dict[str, Any]) -> None:
        text = self._read(path, name)
        if text is not None:
            self._load(text, path, name, overrides)

    def load_source(
        self, text: str | bytes, path: Path, name: str, overrides: dict[str, Any]
    ) -> None:
        if isinstance(text, bytes):
            try:
                text = decode_source(text, name)
            except SourceProblem as exc:
                self.diagnostics.append(exc.diagnostic)
                return
        elif not text.strip():
            self.diagnostics.append(
                Diagnostic("file is empty: expected at least one spec document", Span(name, 1, 1))
            )
            return
        self._load(text, path, name, overrides)

    def _read(self, path: Path, name: str) -> str | None:
        try:
            text = read_source(path, name)
        except SourceProblem as exc:
            self.diagnostics.append(exc.diagnostic)
            return None
        self.sources[name] = text
        return text

    def _parse(self, text: str, name: str) -> list[ParsedDocument] | None:
        self.sources[name] = text
        try:
            return parse_documents(text)
        except YamlError as exc:
            self._add(name, exc.problem.message, exc.problem.pos)
            return None

    def _load(self, text: str, path: Path, name: str, overrides: dict[str, Any]) -> None:
        docs = self._parse(text, name)
        if docs is None:
            return
        if not docs:
            self._add(
                name,
                "file holds no spec documents (only comments or empty documents)",
                Pos(1, 1, 1, 1),
            )
            return
        for doc in docs:
            before = len(self.diagnostics)
            spec = _Document(doc, name, text, overrides, self.diagnostics).load()
            if spec is not None and len(self.diagnostics) == before:
                self.loaded.append((LoadedSpec(spec, path, doc.index), doc.positions, name))

    def _yaml_problems(self, doc: ParsedDocument, name: str) -> None:
        for problem in doc.problems:
            self._add(name, problem.message, problem.pos)

    def _add(self, name: str, message: str, pos: Pos, field_path: str = "") -> None:
        self.diagnostics.append(_diagnostic(name, message, pos, field_path))

    def _check_unique_names(self) -> None:
        seen: dict[tuple[str, ...], LoadedSpec] = {}
        for loaded, positions, name in self.loaded:
            spec = loaded.spec
            key: tuple[str, ...] = (
                ("ContainerGroup", spec.resource_group.lower(), spec.name)
                if isinstance(spec, ContainerGroup)
                else ("BatchJob", spec.name)
            )
            if key in seen:
                first = seen[key]
                self._add(
                    name,
                    f"{spec.kind} {spec.name!r} is already defined in {first.path} "
                    f"(document {first.index + 1}); spec names must be unique",
                    positions.key_or_value(("name",)),
                    "name",
                )
            else:
                seen[key] = loaded


def _diagnostic(name: str, message: str, pos: Pos, field_path: str = "") -> Diagnostic:
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


class _Document:
    """One YAML document through templates and validation, adding diagnostics as it goes."""

    def __init__(
        self,
        doc: ParsedDocument,
        name: str,
        text: str,
        overrides: Mapping[str, Any],
        out: list[Diagnostic],
    ):
        self.doc = doc
        self.name = name
        self.lines = text.splitlines()
        self.overrides = overrides
        self.out = out
        self.failed: list[Loc] = []

    def load(self) -> ContainerGroup | BatchJob | None:
        doc = self.doc
        for problem in doc.problems:
            self.out.append(_diagnostic(self.name, problem.message, problem.pos))
        if any(p.fatal for p in doc.problems):
            return None
        self.failed.extend(p.path for p in doc.problems if p.path is not None)
        data = doc.data
        if not isinstance(data, dict):
            got = "a list" if isinstance(data, list) else f"{data!r}"
            self._add("a spec document is a mapping that starts with 'kind:', got " + got, ())
            return None
        variables = self._variables(data)
        is_batch = data.get("kind") == "BatchJob"
        data = {
            key: value if key == "vars" else self._render(value, (key,), variables, is_batch)
            for key, value in data.items()
        }
        conversion = None
        if azfile.is_az_document(data):
            conversion = azfile.convert(data, variables)
            for message, az_loc, at_key in conversion.problems:
                self._add(message, az_loc, at_key=at_key)
            data = conversion.data
        data["vars"] = variables
        try:
            spec = _adapter().validate_python(data)
        except ValidationError as exc:
            self._report(exc, conversion)
            return None
        return spec

    def _variables(self, data: dict[str, Any]) -> dict[str, Any]:
        defaults = data.get("vars", {})
        if defaults is None:
            defaults = {}
        if not isinstance(defaults, dict):
            self._add("vars is a mapping of NAME: default value", ("vars",))
            defaults = {}
        # A default may use env() and refer to other variables (their unrendered values).
        raw = {**defaults, **self.overrides}
        rendered = {
            key: self._render(value, ("vars", key), raw, False) for key, value in defaults.items()
        }
        return {**rendered, **self.overrides}

    def _render(self, value: Any, loc: Loc, variables: Mapping[str, Any], is_batch: bool) -> Any:
        if isinstance(value, dict):
            return {k: self._render(v, (*loc, k), variables, is_batch) for k, v in value.items()}
        if isinstance(value, list):
            return [self._render(v, (*loc, i), variables, is_batch) for i, v in enumerate(value)]
        if not isinstance(value, str) or not is_template(value):
            return value
        keep_file = is_batch and any(loc[: len(p)] == p for p in TASK_TEMPLATE_PATHS)
        try:
            if keep_file:
                return render_keeping_file(value, variables)
            return render(value, variables)
        except TemplateProblem as exc:
            self.failed.append(loc)
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
        if start >= 0:
            opening = source.rfind("{{", 0, start)
            col = (opening if opening >= 0 else start) + 1
            closing = source.find("}}", start)
            end = closing + 3 if closing >= 0 else start + len(exc.needle or "") + 1
        self.out.append(
            _diagnostic(self.name, exc.message, Pos(line, col, line, end), field_path(loc))
        )

    def _report(self, exc: ValidationError, conversion: azfile.AzConversion | None) -> None:
        seen: set[tuple[Loc, str]] = set()
        for error in exc.errors(include_url=False):
            located = explain(error)
            if any(located.loc[: len(f)] == f for f in self.failed):
                continue  # already reported as a template error
            loc, point = located.loc, located.point
            if conversion is not None:
                loc = conversion.az_path(loc)
                point = None if point is None else conversion.az_path(point)
            if (loc, located.message) in seen:
                continue
            seen.add((loc, located.message))
            self._add(located.message, loc, at_key=located.at_key, point=point)

    def _add(
        self, message: str, loc: Loc, *, at_key: bool = False, point: Loc | None = None
    ) -> None:
        positions = self.doc.positions
        where = loc if point is None else point
        pos = positions.keys.get(where) if at_key else None
        if pos is None:
            pos, _ = positions.lookup(where)
        self.out.append(_diagnostic(self.name, message, pos, field_path(loc)))
