"""Rendering of diagnostics: header, snippet with gutter and caret, JSON."""

from __future__ import annotations

from runner.errors import Diagnostic, Span, SpecError
from runner.render.diagnostics import format_spec_error, spec_error_as_json

SOURCE = "kind: ContainerGroup\nname: web\nresourceGroup: demo\n"


def test_header_snippet_and_underline() -> None:
    exc = SpecError(
        [Diagnostic("bad name", Span("a.yaml", 2, 7, 2, 10), field_path="name")],
        {"a.yaml": SOURCE},
    )
    assert format_spec_error(exc) == (
        "a.yaml:2:7: error: bad name [name]\n"
        "1 | kind: ContainerGroup\n"
        "2 | name: web\n"
        "  |       ^^^\n"
    )


def test_without_source_or_span_only_the_header_is_shown() -> None:
    exc = SpecError(
        [
            Diagnostic("no text", Span("gone.yaml", 3, 1)),
            Diagnostic("no place", field_path="tasks.forEachFile"),
        ]
    )
    assert format_spec_error(exc) == (
        "gone.yaml:3:1: error: no text\n\nerror: no place [tasks.forEachFile]\n"
    )


def test_long_lines_are_windowed_around_the_column() -> None:
    line = "x: [" + "a, " * 200 + "bad]"
    col = line.index("bad") + 1
    exc = SpecError(
        [Diagnostic("here", Span("long.yaml", 1, col, 1, col + 3))], {"long.yaml": line + "\n"}
    )
    snippet = format_spec_error(exc).splitlines()
    assert snippet[1].startswith("1 | ...") and snippet[1].endswith("a, bad]")
    caret = snippet[2].index("^")
    assert snippet[1][caret : caret + 3] == "bad"
    assert len(snippet[1]) < 140


def test_json_form_carries_every_field() -> None:
    exc = SpecError(
        [Diagnostic("bad name", Span("a.yaml", 2, 7, 2, 10), field_path="name")],
        {"a.yaml": SOURCE},
    )
    assert spec_error_as_json(exc) == {
        "valid": False,
        "error_count": 1,
        "diagnostics": [
            {
                "severity": "error",
                "message": "bad name",
                "field": "name",
                "detail": None,
                "file": "a.yaml",
                "line": 2,
                "col": 7,
                "end_line": 2,
                "end_col": 10,
            }
        ],
    }
