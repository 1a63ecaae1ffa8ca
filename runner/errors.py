"""Errors the runner reports to users. A leaf module: it imports nothing from runner.

Anything that is not a ``RunnerError`` is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Span:
    """A 1-based position range in a source file."""

    file: str
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One located problem in a spec, drawn by ``render/`` with the source text."""

    summary: str
    span: Span | None = None
    field_path: str = ""
    detail: str = ""
    severity: Severity = "error"


class RunnerError(Exception):
    """A user-facing error: printed without a traceback, exit code 1."""

    exit_code = 1


class SpecError(RunnerError):
    """A spec failed to load or validate. Carries every diagnostic and the texts loaded."""

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: dict[str, str] | None = None):
        self.diagnostics = list(diagnostics)
        self.sources = dict(sources or {})
        first = self.diagnostics[0] if self.diagnostics else None
        where = f"{first.span}: " if first and first.span else ""
        super().__init__(f"{where}{first.summary}" if first else "invalid spec")


class TemporaryError(RunnerError):
    """A failure worth retrying after ``delay`` seconds (429, 5xx, dropped connection, busy)."""

    def __init__(self, message: str, delay: float | None = None, code: str | None = None):
        super().__init__(message)
        self.delay = delay
        self.code = code


class PermanentError(RunnerError):
    """A failure that retrying cannot fix; ``code`` is Azure's error code when there is one."""

    def __init__(self, message: str, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


class OwnershipError(RunnerError):
    """A resource exists but was not made by this runner workspace; it is never touched."""


class LockError(RunnerError):
    """Another apply holds the workspace lock."""


class TargetError(RunnerError):
    """The target cannot be reached or configured (credentials, endpoints, services)."""


@dataclass
class Cancelled(RunnerError):
    """The user interrupted a run; teardown has run. Exit code 130."""

    message: str = "interrupted"
    removed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    exit_code = 130

    def __str__(self) -> str:
        return self.message
