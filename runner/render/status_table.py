"""Cells of the ``runner status`` table, from ``StatusRow.detail`` as the engine fills it.

Known keys get their own column (``ip``, ``fqdn``, ``restarts``, ``exit_codes``, ``expires``,
``commit``); the rest are listed as ``key=value`` so a new detail shows up without a
renderer change. ``drift`` is said once per spec below the table, not on every row.
"""

from __future__ import annotations

from typing import Any

from runner.plan.provenance import SHORT_COMMIT
from runner.render.base import StatusRowLike

STATUS_COLUMNS = (
    "Resource",
    "Kind",
    "State",
    "IP / FQDN",
    "Restarts",
    "Exit codes",
    "Expires",
    "Commit",
    "Detail",
)
# ``source`` (the spec's path) is named by the drift line and kept in JSON; every row of a
# spec would repeat it.
_OWN_COLUMNS = {"ip", "fqdn", "restarts", "exit_codes", "expires", "commit", "drift", "source"}


def cell(value: Any) -> str:
    if value is None or value == {} or value == []:
        return ""
    if isinstance(value, dict):
        return " ".join(f"{k}={cell(v) or '-'}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    return str(value)


def status_cells(row: StatusRowLike) -> tuple[str, ...]:
    detail = row.detail or {}
    where = " ".join(cell(detail.get(k)) for k in ("ip", "fqdn") if detail.get(k))
    rest = {k: v for k, v in detail.items() if k not in _OWN_COLUMNS}
    return (
        row.address,
        row.kind,
        row.state,
        where,
        cell(detail.get("restarts")),
        cell(detail.get("exit_codes")),
        cell(detail.get("expires")),
        short_commit(detail.get("commit")),
        cell(rest),
    )


def short_commit(value: Any) -> str:
    """``1a2b3c4`` of a full sha, ``-dirty`` kept."""
    if not value:
        return ""
    text = str(value)
    sha, dirty, _ = text.partition("-dirty")
    return sha[:SHORT_COMMIT] + ("-dirty" if dirty else "")
