"""Printing of user errors (``RunnerError``), with located diagnostics for specs."""

from __future__ import annotations

import sys

from runner.errors import RunnerError, SpecError


def print_error(exc: RunnerError) -> None:
    if isinstance(exc, SpecError):
        from runner.render.diagnostics import format_spec_error

        sys.stderr.write(format_spec_error(exc))
        return
    sys.stderr.write(f"error: {exc}\n")
