"""Loading specs: YAML with positions, Jinja over string values, then pydantic validation.

Every problem of every file is gathered and raised as one ``SpecError`` whose diagnostics
point at ``file:line:col``; the loaded texts travel with it so snippets can be drawn.
Variables: a spec's ``vars:`` defaults, overridden by ``--var-file`` files (in order),
overridden by ``--var NAME=VALUE``. Documents in the ``az container create --file`` format
are read literally; they take only the ``resourceGroup`` variable. A workflow's steps are
loaded with it (``runner.spec.workflow_steps``): a step's ``spec:`` file through this
loader too, with the step's ``vars`` over the file's defaults and no ``--var`` of its own.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runner.errors import Diagnostic, Span, SpecError
from runner.spec.azfile import LITERAL, RESOURCE_GROUP_VARIABLE
from runner.spec.document import DocumentLoader, SpecSource, diagnostic
from runner.spec.loaded import LoadedSpec, LoadedStep
from runner.spec.models import ContainerGroup, Step, Workflow
from runner.spec.positions import ParsedDocument, Pos, PositionTree, YamlError, parse_documents
from runner.spec.source import MAX_SPEC_BYTES, SourceProblem, decode_source, read_source
from runner.spec.workflow_steps import check_step_vars, load_steps

__all__ = ["LoadedSpec", "LoadedStep", "expand_paths", "load_specs", "load_text"]

SPEC_SUFFIXES = (".yaml", ".yml")
STDIN, STDIN_NAME = "-", "<stdin>"
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__"})


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given; folders become every ``*.yaml``/``*.yml`` under them, sorted, except
    in hidden folders (``.venv``, ``.runner``, ``.git``) and ``node_modules``."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if _is_spec_file(f, p)))
        else:
            files.append(p)
    return list(dict.fromkeys(files))


def _is_spec_file(file: Path, root: Path) -> bool:
    parts = file.relative_to(root).parts
    return (
        file.suffix in SPEC_SUFFIXES
        and not any(part.startswith(".") or part in SKIPPED_FOLDERS for part in parts)
        and file.is_file()
    )


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
            # One byte over the limit is enough to refuse: `- < /dev/zero` must end.
            data = sys.stdin.buffer.read(MAX_SPEC_BYTES + 1)
            session.load_source(data, Path(STDIN_NAME), STDIN_NAME, overrides)
        else:
            session.load_file(file, str(file), overrides)
    session.check_variables_used(variables or {})
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
        self.literal: list[bool] = []  # per document: read literally (an az file's)

    def check_variables_used(self, variables: Mapping[str, Any]) -> None:
        """A ``--var`` given only to az files, which are read literally, would change
        nothing: say so rather than run what the user may think was templated. Var files
        are left alone: one is a shared set of values, not all for every spec."""
        unused = [name for name in variables if name != RESOURCE_GROUP_VARIABLE]
        if unused and self.literal and all(self.literal):
            names = ", ".join(unused)
            verb = "is" if len(unused) == 1 else "are"
            self.diagnostics.append(Diagnostic(f"--var {names} {verb} not used: {LITERAL}"))

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
            # An empty var file sets no variables, as a comments-only one does.
            text = self._read(Path(vf), name, empty_ok=True)
            if text is None or not text.strip():
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

    def _read(self, path: Path, name: str, *, empty_ok: bool = False) -> str | None:
        try:
            text = read_source(path, name, empty_ok=empty_ok)
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
            document = DocumentLoader(doc, name, text, overrides, self.diagnostics)
            spec = document.load()
            self.literal.append(document.literal)
            if spec is None:
                continue
            conversion = document.conversion
            origin = conversion.az_path if conversion else None
            source = SpecSource(name, text, doc.positions, origin)
            steps: tuple[LoadedStep, ...] | None = ()
            if isinstance(spec, Workflow):
                steps = load_steps(
                    spec,
                    document,
                    (path, doc.index, source),
                    functools.partial(self._load_reference, path, document=document),
                )
            if steps is not None and len(self.diagnostics) == before:
                loaded = LoadedSpec(spec, path, doc.index, source, steps=steps)
                self.loaded.append((loaded, doc.positions, name))

    def _load_reference(
        self, workflow: Path, step_name: str, step: Step, *, document: DocumentLoader
    ) -> LoadedSpec | None:
        """A step's ``spec:`` file, with its vars defaults overridden by the step's vars.
        Its problems are located in it; that it cannot be read, or does not hold exactly
        one ContainerGroup or BatchJob, at the step's ``spec`` in the workflow file."""
        assert step.spec is not None
        at = ("steps", step_name, "spec")
        path = Path(os.path.normpath(os.path.join(os.path.dirname(workflow), step.spec)))
        name = str(path)
        try:
            text = read_source(path, name)
        except SourceProblem as exc:
            if exc.diagnostic.span is not None:
                self.diagnostics.append(exc.diagnostic)
            else:
                document.add(f"step {step_name!r}: {exc.diagnostic.summary}", at)
            return None
        docs = self._parse(text, name)
        if docs is None:
            return None
        one = "a step's spec file holds one ContainerGroup or BatchJob document"
        if len(docs) != 1:
            held = f"{len(docs)} documents" if docs else "no spec documents"
            document.add(f"{step.spec} holds {held}: {one}", at)
            return None
        (doc,) = docs
        if isinstance(doc.data, dict) and doc.data.get("kind") == "Workflow":
            document.add(f"{step.spec} is a Workflow: {one} (workflows do not nest)", at)
            return None
        variables = dict(step.vars or {})
        check_step_vars(doc.data, variables, step_name, step.spec, document)
        before = len(self.diagnostics)
        loader = DocumentLoader(doc, name, text, variables, self.diagnostics, require_collect=False)
        spec = loader.load()
        if spec is None or len(self.diagnostics) > before:
            return None
        assert not isinstance(spec, Workflow)
        conversion = loader.conversion
        source = SpecSource(name, text, doc.positions, conversion.az_path if conversion else None)
        return LoadedSpec(spec, path, doc.index, source)

    def _yaml_problems(self, doc: ParsedDocument, name: str) -> None:
        for problem in doc.problems:
            self._add(name, problem.message, problem.pos)

    def _add(self, name: str, message: str, pos: Pos, field_path: str = "") -> None:
        self.diagnostics.append(diagnostic(name, message, pos, field_path))

    def _check_unique_names(self) -> None:
        seen: dict[tuple[str, ...], LoadedSpec] = {}
        for loaded, positions, name in self.loaded:
            spec = loaded.spec
            key: tuple[str, ...] = (
                ("ContainerGroup", spec.resource_group.lower(), spec.name)
                if isinstance(spec, ContainerGroup)
                else (spec.kind, spec.name)
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
