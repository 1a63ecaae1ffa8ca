"""List queries: ``maxresults`` paging with ``odata.nextLink``, ``$filter`` and ``$select``.

``$filter`` understands the clauses clients send for pools, jobs and tasks: ``eq``/``ne``
comparisons of a property path with a quoted string or a number, and
``startswith(prop,'x')``, joined with ``and`` or ``or``. Anything else is answered with
``InvalidQueryParameterValue``, as Batch does with a filter it cannot parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from runner.local.batch.errors import BatchServiceError

MAX_RESULTS = 1000
_CLAUSE = re.compile(
    r"^\s*(?:startswith\(\s*(?P<sp>[\w/]+)\s*,\s*'(?P<sv>(?:[^']|'')*)'\s*\)"
    r"|(?P<p>[\w/]+)\s+(?P<op>eq|ne|gt|ge|lt|le)\s+(?:'(?P<v>(?:[^']|'')*)'|(?P<n>-?\d+)))\s*$",
    re.IGNORECASE,
)

Doc = dict[str, Any]


def _get(doc: Doc, path: str) -> Any:
    value: Any = doc
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _clause(text: str) -> Callable[[Doc], bool]:
    match = _CLAUSE.match(text)
    if not match:
        raise ValueError(text)
    if match.group("sp"):
        prop, prefix = match.group("sp"), match.group("sv").replace("''", "'")
        return lambda d: str(_get(d, prop) or "").startswith(prefix)
    prop, op = match.group("p"), match.group("op").lower()
    raw: Any = (
        match.group("v").replace("''", "'")
        if match.group("v") is not None
        else int(match.group("n"))
    )
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "eq": lambda a, b: a == b,
        "ne": lambda a, b: a != b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
    }

    def test(doc: Doc) -> bool:
        value = _get(doc, prop)
        if isinstance(raw, str) and isinstance(value, str) and prop.lower().endswith("state"):
            value, other = value.lower(), raw.lower()
        else:
            other = raw
        try:
            return ops[op](value, other)
        except TypeError:
            return False

    return test


def compile_filter(text: str | None) -> Callable[[Doc], bool]:
    if not text or not text.strip():
        return lambda d: True
    try:
        alternatives = [
            [_clause(part) for part in re.split(r"\s+and\s+", alt, flags=re.IGNORECASE)]
            for alt in re.split(r"\s+or\s+", text, flags=re.IGNORECASE)
        ]
    except ValueError:
        raise BatchServiceError(
            "InvalidQueryParameterValue",
            QueryParameterName="$filter",
            QueryParameterValue=text,
            Reason="The $filter clause is not supported",
        ) from None
    return lambda d: any(all(c(d) for c in clauses) for clauses in alternatives)


def by_id(items: Iterable[Doc]) -> list[Doc]:
    """Batch lists pools and jobs in the order of their ids (Azure's recorded lists)."""
    return sorted(items, key=lambda d: str(d["id"]).lower())


def page(items: Sequence[Doc], args: Mapping[str, str], base: str, path: str) -> Doc:
    """One page of ``items`` and, when more remain, the link to the next one."""
    try:
        size = int(args.get("maxresults") or MAX_RESULTS)
        start = int(args.get("$skiptoken") or 0)
    except ValueError:
        raise BatchServiceError(
            "InvalidQueryParameterValue",
            QueryParameterName="maxresults",
            QueryParameterValue=args.get("maxresults"),
        ) from None
    if not 1 <= size <= MAX_RESULTS:
        raise BatchServiceError(
            "InvalidQueryParameterValue",
            QueryParameterName="maxresults",
            QueryParameterValue=str(size),
            Reason=f"maxresults must be between 1 and {MAX_RESULTS}",
        )
    body: Doc = {"value": list(items[start : start + size])}
    if start + size < len(items):
        query = [
            f"api-version={quote(args.get('api-version', ''))}",
            f"maxresults={size}",
            f"$skiptoken={start + size}",
        ]
        for name in ("$filter", "$select", "$expand", "recursive"):
            if args.get(name):
                query.append(f"{name}={quote(args[name], safe='')}")
        body["odata.nextLink"] = f"{base}{path}?{'&'.join(query)}"
    return body
