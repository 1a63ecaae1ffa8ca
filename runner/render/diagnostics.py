"""Spec diagnostics drawn like a compiler's: a located header, then the source with a caret.

    specs/x.yaml:9:10: error: must be at most 4, got 100 [containers[0].cpu]
       8 |     image: busybox
       9 |     cpu: 100
         |          ^^^

The texts come with the ``SpecError`` (files are never re-read: stdin, var files).
Plain text only, no rich: ``runner validate`` stays fast and its output stable.
"""

from __future__ import annotations

from typing import Any

from runner.errors import Diagnostic, SpecError

CONTEXT_LINES = 1
MAX_SHOWN = 120
ELLIPSIS = "..."


def format_diagnostic(diagnostic: Diagnostic, sources: dict[str, str]) -> str:
    span = diagnostic.span
    where = f"{span}: " if span else ""
    field = f" [{diagnostic.field_path}]" if diagnostic.field_path else ""
    lines = [f"{where}{diagnostic.severity}: {diagnostic.summary}{field}"]
    if diagnostic.detail:
        lines.append(f"  {diagnostic.detail}")
    text = sources.get(span.file) if span else None
    if span is None or text is None:
        return "\n".join(lines) + "\n"
    source = text.splitlines()
    if not 1 <= span.line <= len(source):
        return "\n".join(lines) + "\n"
    first = max(1, span.line - CONTEXT_LINES)
    width = len(str(span.line))
    offending = source[span.line - 1]
    col = min(max(span.col, 1), len(offending) + 1)
    length = 1
    if span.end_line == span.line and span.end_col and span.end_col > col:
        length = min(span.end_col, len(offending) + 1) - col
    # Very long lines (minified or generated files) are shown as a window around the column.
    start = max(0, col - 1 - MAX_SHOWN // 3) if len(offending) > MAX_SHOWN else 0
    for number in range(first, span.line + 1):
        shown = _window(source[number - 1].replace("\t", " ").rstrip(), start)
        lines.append(f"{number:>{width}} | {shown}".rstrip())
    caret_col = col - start + (len(ELLIPSIS) if start else 0)
    length = max(1, min(length, MAX_SHOWN - (col - 1 - start)))
    lines.append(f"{'':>{width}} | {' ' * (caret_col - 1)}{'^' * length}")
    return "\n".join(lines) + "\n"


def _window(line: str, start: int) -> str:
    shown = line[start : start + MAX_SHOWN]
    if start + MAX_SHOWN < len(line):
        shown += ELLIPSIS
    return (ELLIPSIS + shown) if start else shown


def format_spec_error(exc: SpecError) -> str:
    """Every diagnostic, a blank line between them."""
    blocks = [format_diagnostic(d, exc.sources) for d in exc.diagnostics]
    return "\n".join(blocks) if blocks else f"error: {exc}\n"


def diagnostic_as_json(diagnostic: Diagnostic) -> dict[str, Any]:
    span = diagnostic.span
    return {
        "severity": diagnostic.severity,
        "message": diagnostic.summary,
        "field": diagnostic.field_path or None,
        "detail": diagnostic.detail or None,
        "file": span.file if span else None,
        "line": span.line if span else None,
        "col": span.col if span else None,
        "end_line": span.end_line if span else None,
        "end_col": span.end_col if span else None,
    }


def spec_error_as_json(exc: SpecError) -> dict[str, Any]:
    return {
        "valid": False,
        "error_count": len(exc.diagnostics),
        "diagnostics": [diagnostic_as_json(d) for d in exc.diagnostics],
    }
