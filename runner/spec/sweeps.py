"""Sweeps: a ``BatchJob``'s tasks made from data rather than from input files.

``tasks.forEach`` gives one task per value of a list (``values``), per whole number of a
range (``range``, both ends included) or per row of a CSV or JSON Lines file (``rows``).
Templates see ``item`` (a value or number) or ``row`` (a row's fields: ``row.sample``,
``row['read count']``), and ``index``, the task's place in the sweep from 0.

The rows file is read by ``engine/inputs.py`` for the planner and by ``spec/files.py``
for its checks; both parse it here, so a malformed row is reported at its line either way.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from pydantic import Field, field_validator, model_validator

from runner.spec.base import Model, WholeNumber, located

# Far above a real sweep, far below what would make a plan unreadable or Batch slow.
MAX_SWEEP = 100_000
ROWS_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class SweepRange(Model):
    """The whole numbers ``start``, ``start + step``, ... up to ``end``, both ends included
    (as in Batch's task id ranges)."""

    start: WholeNumber
    end: WholeNumber
    step: WholeNumber = Field(1, ge=1)

    @model_validator(mode="after")
    def _not_empty(self) -> SweepRange:
        if self.end < self.start:
            raise located(
                f"the range ends ({self.end}) before it starts ({self.start}): an empty "
                "sweep makes no tasks",
                "end",
            )
        if len(self.numbers()) > MAX_SWEEP:
            raise located(f"the range gives more than {MAX_SWEEP:,} tasks")
        return self

    def numbers(self) -> range:
        return range(self.start, self.end + 1, self.step)


class ForEach(Model):
    """Exactly one of ``values``, ``range`` and ``rows`` (a ``.csv`` file with a header
    row, or a ``.jsonl`` file of one JSON object per line, relative to the spec file)."""

    values: list[Any] | None = None
    range: SweepRange | None = None
    rows: str | None = None

    @field_validator("values")
    @classmethod
    def _values(cls, v: list[Any] | None) -> list[Any] | None:
        if v is not None and not v:
            raise ValueError("an empty sweep makes no tasks: give at least one value")
        if v is not None and len(v) > MAX_SWEEP:
            raise ValueError(f"a sweep makes at most {MAX_SWEEP:,} tasks")
        return v

    @field_validator("rows")
    @classmethod
    def _rows(cls, v: str | None) -> str | None:
        if v is not None and PurePath(v).suffix.lower() not in ROWS_SUFFIXES:
            raise ValueError(
                f"rows file {v!r} is neither .csv (with a header row) nor .jsonl "
                "(one JSON object per line)"
            )
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> ForEach:
        given = [k for k in ("values", "range", "rows") if getattr(self, k) is not None]
        if len(given) != 1:
            raise located(
                "forEach takes exactly one of values (a list), range ({start, end, step}) "
                "and rows (a .csv or .jsonl file)"
                + (f"; it has {' and '.join(given)}" if given else ""),
                *given[1:2],
            )
        return self


@dataclass(frozen=True)
class SweepRow:
    """One row of a rows file: its fields, the file as the spec names it, and the 1-based
    line the row starts on."""

    fields: dict[str, Any]
    source: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


class RowFields:
    """A row as templates see it: ``row.name`` or ``row['name']``. Not a dict, so a field
    named ``items`` or ``values`` is the field, not a dict method; the sandbox keeps
    templates from the ``_fields`` behind it."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._fields[name]

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __str__(self) -> str:
        return json.dumps(self._fields, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class SweepItem:
    """What one task of a sweep is made from: a value (``item``) or a row, and its place."""

    index: int
    item: Any = None
    row: SweepRow | None = None

    def names(self) -> dict[str, Any]:
        """The names its templates see."""
        if self.row is not None:
            return {"row": RowFields(self.row.fields), "index": self.index}
        return {"item": self.item, "index": self.index}

    def __str__(self) -> str:
        if self.row is not None:
            return f"row {self.index + 1} ({self.row.where})"
        return f"item {self.index} ({self.item!r})"


# A mapped task is made from an input file (``tasks.forEachFile``) or a sweep item.
TaskOrigin = PurePath | SweepItem


@dataclass(frozen=True)
class RowsProblem(Exception):
    """A rows file that cannot be read as rows: why, and where (1-based line and column;
    line 0 for the file as a whole)."""

    message: str
    source: str
    line: int = 0
    col: int = 1

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}: " if self.line else ""
        return f"{where}{self.message}"


def read_rows(path: Path, source: str) -> list[SweepRow]:
    """The rows of the rows file at ``path``, shown as ``source`` in messages and rows.
    Raises ``RowsProblem`` (a file that is missing or not UTF-8 included)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RowsProblem(f"rows file {source} does not exist", source) from None
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise RowsProblem(f"cannot read rows file {source}: {why}", source) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RowsProblem("not UTF-8 text", source, line) from None
    return parse_rows(text, source)


def parse_rows(text: str, source: str) -> list[SweepRow]:
    """The rows of a rows file's text; ``source`` is its name (its suffix picks the format).
    Blank lines are skipped. Raises ``RowsProblem``."""
    text = text.removeprefix("\ufeff")
    kind = ROWS_SUFFIXES.get(PurePath(source).suffix.lower())
    if kind is None:
        raise RowsProblem(f"{source} is neither .csv nor .jsonl", source)
    rows = _csv_rows(text, source) if kind == "csv" else _jsonl_rows(text, source)
    if not rows:
        what = "no data rows under its header" if kind == "csv" and text.strip() else "no rows"
        raise RowsProblem(f"{source} has {what}: an empty sweep makes no tasks", source)
    if len(rows) > MAX_SWEEP:
        raise RowsProblem(f"{source} has more than {MAX_SWEEP:,} rows", source)
    return rows


def _csv_rows(text: str, source: str) -> list[SweepRow]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[SweepRow] = []
    line = 1
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not record:
                continue
            if header is None:
                header = _header(record, source, start)
                continue
            if len(record) != len(header):
                raise RowsProblem(
                    f"the row has {len(record)} field{'s' if len(record) != 1 else ''} "
                    f"and the header {len(header)} ({', '.join(header)})",
                    source,
                    start,
                )
            rows.append(SweepRow(dict(zip(header, record, strict=True)), source, start))
    except csv.Error as exc:
        raise RowsProblem(f"not CSV: {exc}", source, reader.line_num) from None
    return rows


def _header(record: Sequence[str], source: str, line: int) -> list[str]:
    names = [name.strip() for name in record]
    for i, name in enumerate(names):
        if not name:
            raise RowsProblem(f"header field {i + 1} has no name", source, line)
        if name in names[:i]:
            raise RowsProblem(f"the header names {name!r} twice", source, line)
    return names


def _jsonl_rows(text: str, source: str) -> list[SweepRow]:
    rows: list[SweepRow] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RowsProblem(f"not JSON: {exc.msg}", source, number, exc.colno) from None
        if not isinstance(value, dict):
            raise RowsProblem(
                f'a row is a JSON object ({{"name": value, ...}}), not {_json_type(value)}',
                source,
                number,
            )
        rows.append(SweepRow(value, source, number))
    return rows


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def sweep_items(for_each: ForEach, rows: Sequence[SweepRow] = ()) -> list[SweepItem]:
    """The sweep's items in order; ``rows`` are the rows file's, read beforehand."""
    if for_each.values is not None:
        return [SweepItem(i, value) for i, value in enumerate(for_each.values)]
    if for_each.range is not None:
        return [SweepItem(i, n) for i, n in enumerate(for_each.range.numbers())]
    return [SweepItem(i, row=row) for i, row in enumerate(rows)]
