"""Picking the price table a plan is estimated with.

In order: a file of the user's (``--prices FILE`` or ``RUNNER_PRICES``), else on
``--target azure`` the public Retail Prices API when it answers, else runner's own dated
table. Each says what it is and its date, and a plan names it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from runner.errors import RunnerError
from runner.plan.price_table import PriceSource, PriceTable
from runner.pricing import PRICES_ENV

TABLE_FILE = "prices-2024-06-01.json"
# Far above any price file: a saved API answer for a few services is a few megabytes.
MAX_PRICE_FILE = 64 * 1024 * 1024


def _table(doc: Any, kind: str, name: str, date: str | None = None) -> PriceTable:
    if not isinstance(doc, dict) or not isinstance(doc.get("Items"), list):
        raise RunnerError(
            f"{name}: not a price file: it needs an Items list, as the Retail Prices API answers"
        )
    items = [i for i in doc["Items"] if isinstance(i, dict)]
    dated = (
        date
        or doc.get("date")
        or max((str(i.get("effectiveStartDate", ""))[:10] for i in items), default="")
    )
    currency = (
        doc.get("currency")
        or doc.get("BillingCurrency")
        or next((str(i["currencyCode"]) for i in items if i.get("currencyCode")), "USD")
    )
    source = PriceSource(kind=kind, name=name, date=str(dated), currency=str(currency))  # type: ignore[arg-type]
    return PriceTable.from_items(source, items)


def shipped_table() -> PriceTable:
    """runner's own table, dated in its name and in the file."""
    text = resources.files("runner.pricing").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    return _table(json.loads(text), "table", f"runner's price table ({TABLE_FILE})")


def file_table(path: str | Path) -> PriceTable:
    """A user's file in the Retail Prices API's shape (a saved answer works as it is)."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_PRICE_FILE:
            raise RunnerError(f"price file {path} is over {MAX_PRICE_FILE} bytes")
        doc = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RunnerError(f"cannot read price file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise RunnerError(f"price file {path} is not JSON: {exc}") from None
    return _table(doc, "file", str(path))


def price_table(
    prices_file: str | None,
    target: str | None,
    queries: Sequence[tuple[str, str, str]],
) -> tuple[PriceTable, str]:
    """The table to estimate with, and a note on how it was chosen when it was not the
    first choice (the API did not answer)."""
    chosen = prices_file or os.environ.get(PRICES_ENV)
    if chosen:
        return file_table(chosen), ""
    if (target or "local") == "azure" and queries:
        from runner.pricing.retail_api import RetailPricesUnavailable, retail_table

        try:
            return retail_table(queries), ""
        except RetailPricesUnavailable as exc:
            table = shipped_table()
            return table, f"the Retail Prices API did not answer ({exc}): {table.source.name}"
    return shipped_table(), ""
