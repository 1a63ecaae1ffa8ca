"""What loading gives: validated specs that can still point at their source, and a
workflow's steps with the specs they run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runner.errors import Diagnostic, SpecError
from runner.spec.document import SpecSource
from runner.spec.models import BatchJob, ContainerGroup, StepCollect, StepInput, Workflow


@dataclass(frozen=True)
class LoadedSpec:
    """One validated spec document. ``index`` is the document's 0-based number in its file.

    A workflow's inline step is a spec written inside the workflow's document:
    ``field_prefix`` (``steps.lower.group``) is where its fields sit there, so problems
    found later are located in the workflow file. ``steps`` are a workflow's steps, in the
    order written (empty for other kinds)."""

    spec: ContainerGroup | BatchJob | Workflow
    path: Path
    index: int
    source: SpecSource | None = field(default=None, repr=False, compare=False)
    field_prefix: str = ""
    steps: tuple[LoadedStep, ...] = ()

    def diagnostic(self, summary: str, field_path: str) -> Diagnostic:
        """A problem found after loading, located at ``field_path`` of this spec."""
        where = ".".join(p for p in (self.field_prefix, field_path) if p)
        where = where.replace(".[", "[")
        if self.source is None:
            return Diagnostic(summary=summary, field_path=where)
        return self.source.diagnostic(summary, where)

    def error(self, summary: str, field_path: str) -> SpecError:
        """A ``SpecError`` for a problem found after loading (a glob that matches nothing,
        a missing file), located at ``field_path`` (``tasks.forEachFile``) in the spec."""
        d = self.diagnostic(summary, field_path)
        if self.source is None:
            return SpecError([d])
        return SpecError([d], {self.source.name: self.source.text})

    @property
    def base_dir(self) -> Path:
        """The spec file's folder: input files named in the spec are relative to it."""
        return self.path.resolve().parent


@dataclass(frozen=True)
class LoadedStep:
    """One step of a workflow. ``needs`` are the steps it waits for: those it names and
    those its ``from`` inputs come from, in step order. ``loaded`` is the ContainerGroup
    or BatchJob it runs; its ``path`` is the file it is written in (the workflow file for
    an inline step). ``collect.outputs`` is filled in: unset, every declared output glob.
    ``reference`` is the ``spec:`` path as written, for a step that refers to a file."""

    name: str
    needs: tuple[str, ...]
    loaded: LoadedSpec
    inputs: dict[str, StepInput]
    outputs: dict[str, str]
    collect: StepCollect | None
    field_path: str
    reference: str | None = None

    @property
    def spec(self) -> ContainerGroup | BatchJob:
        spec = self.loaded.spec
        assert not isinstance(spec, Workflow)
        return spec

    @property
    def base_dir(self) -> Path:
        """The folder of the file the step is written in."""
        return self.loaded.base_dir


def with_steps(specs: Sequence[LoadedSpec]) -> list[LoadedSpec]:
    """The specs with each workflow among them replaced by its steps' specs."""
    out: list[LoadedSpec] = []
    for s in specs:
        out += [step.loaded for step in s.steps] if isinstance(s.spec, Workflow) else [s]
    return out
