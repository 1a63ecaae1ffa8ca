"""The public Azure Retail Prices API: no credentials, one filtered query per region and
service (and VM size), answers cached for a day.

https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices:
``GET https://prices.azure.com/api/retail/prices?$filter=...`` answers ``Items`` and a
``NextPageLink`` to follow until it is null. No ``api-version`` is sent: the default
version compares filter values ignoring case, so ``STANDARD_D2S_V3`` finds
``Standard_D2s_v3``. ``RUNNER_RETAIL_PRICES_URL`` points it elsewhere (a test's server).

The cache holds the API's rows and the day they were read, keyed by the query: nothing of
the caller's (no environment, no header), so it can hold no secret.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner.plan.price_table import PriceSource, PriceTable

ENDPOINT = "https://prices.azure.com/api/retail/prices"
ENDPOINT_ENV = "RUNNER_RETAIL_PRICES_URL"
CACHE_ENV = "RUNNER_PRICE_CACHE"
CACHE_SECONDS = 24 * 3600
TIMEOUT_SECONDS = 10.0
MAX_PAGES = 20  # a filtered query answers one page or two; a loop of links stops here
MAX_PAGE_BYTES = 16 * 1024 * 1024


class RetailPricesUnavailable(Exception):
    """The API did not answer, or not with prices: the caller falls back to the table."""


def endpoint() -> str:
    return os.environ.get(ENDPOINT_ENV) or ENDPOINT


def shown(url: str) -> str:
    """The endpoint as plans and caches name it: scheme, host and path, no user
    information or query (where a proxy's credentials could sit)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "runner" / "prices"


def odata_filter(service: str, region: str, size: str) -> str:
    parts = [
        f"serviceName eq '{service}'",
        f"armRegionName eq '{region}'",
        "priceType eq 'Consumption'",
    ]
    if size:
        parts.append(f"armSkuName eq '{size}'")
    return " and ".join(parts)


def _get(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read(MAX_PAGE_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise RetailPricesUnavailable(f"{shown(url)}: {reason}") from None
    if len(body) > MAX_PAGE_BYTES:
        raise RetailPricesUnavailable(f"{shown(url)}: answer over {MAX_PAGE_BYTES} bytes")
    try:
        doc = json.loads(body)
    except ValueError:
        raise RetailPricesUnavailable(f"{shown(url)}: the answer is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Items"), list):
        raise RetailPricesUnavailable(f"{shown(url)}: the answer holds no Items")
    return doc


def _query(base: str, filter_: str) -> list[dict[str, Any]]:
    joiner = "&" if "?" in base else "?"
    url: str | None = f"{base}{joiner}{urllib.parse.urlencode({'$filter': filter_})}"
    items: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        if not url:
            return items
        page = _get(url)
        items += [i for i in page["Items"] if isinstance(i, dict)]
        url = page.get("NextPageLink") or None
    raise RetailPricesUnavailable(f"{shown(base)}: more than {MAX_PAGES} pages")


def _cached(base: str, filter_: str, now: float) -> tuple[list[dict[str, Any]], str]:
    key = hashlib.sha256(f"{shown(base)}\n{filter_}".encode()).hexdigest()[:32]
    path = cache_dir() / f"{key}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if now - float(doc["fetched_at"]) < CACHE_SECONDS:
            return list(doc["Items"]), str(doc["date"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    items = _query(base, filter_)
    date = datetime.fromtimestamp(now, UTC).date().isoformat()
    doc = {"endpoint": shown(base), "filter": filter_, "fetched_at": now, "date": date}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**doc, "Items": items}), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # an unwritable cache costs a query next time, nothing more
    return items, date


def retail_table(
    queries: Sequence[tuple[str, str, str]], *, now: float | None = None
) -> PriceTable:
    """Prices for ``queries`` ((service, region, VM size or "")), from the cache when it
    holds a day-old answer or fresher, else from the API."""
    base = endpoint()
    moment = time.time() if now is None else now
    items: list[dict[str, Any]] = []
    dates: list[str] = []
    for service, region, size in queries:
        got, date = _cached(base, odata_filter(service, region, size), moment)
        items += got
        dates.append(date)
    source = PriceSource(
        kind="retail-api",
        name=f"the Azure Retail Prices API ({shown(base)})",
        date=min(dates) if dates else "",
        currency=next((str(i["currencyCode"]) for i in items if i.get("currencyCode")), "USD"),
    )
    return PriceTable.from_items(source, items)
