"""Where prices come from: runner's dated table, a user's file, and the Retail Prices API,
here a local server answering in the API's shape (never the real internet)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from runner.errors import RunnerError
from runner.pricing import retail_api
from runner.pricing.sources import file_table, price_table, shipped_table

D2S = ("Virtual Machines", "westeurope", "STANDARD_D2S_V3")
ACI = ("Container Instances", "westeurope", "")


def item(**fields: Any) -> dict[str, Any]:
    return {
        "currencyCode": "USD",
        "retailPrice": 0.5,
        "unitOfMeasure": "1 Hour",
        "armRegionName": "westeurope",
        "armSkuName": "Standard_D2s_v3",
        "serviceName": "Virtual Machines",
        "productName": "Virtual Machines DSv3 Series",
        "skuName": "D2s v3",
        "meterName": "D2s v3",
        "effectiveStartDate": "2025-03-01T00:00:00Z",
        "type": "Consumption",
        **fields,
    }


class FakeRetailPrices:
    """Answers ``$filter`` queries as the API does: Items, then NextPageLink pages."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.pages: dict[str, list[dict[str, Any]]] = {
            "VM": [item()],
            "VM2": [
                item(
                    skuName="D2s v3 Low Priority", meterName="D2s v3 Low Priority", retailPrice=0.1
                )
            ],
        }
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}/api/retail/prices"
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                fake.requests.append(self.path)
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                page = query.get("page", [""])[0]
                filter_ = query.get("$filter", [""])[0]
                if page:
                    body = {"Items": fake.pages[page], "NextPageLink": None, "Count": 1}
                elif "armSkuName eq 'STANDARD_D2S_V3'" in filter_:
                    body = {
                        "Items": fake.pages["VM"],
                        "NextPageLink": f"{fake.url}?page=VM2",
                        "Count": 1,
                    }
                else:
                    body = {"Items": [], "NextPageLink": None, "Count": 0}
                data = json.dumps({"BillingCurrency": "USD", **body}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                return None

        return Handler


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeRetailPrices]:
    fake = FakeRetailPrices()
    monkeypatch.setenv(retail_api.ENDPOINT_ENV, fake.url)
    monkeypatch.setenv(retail_api.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv("RUNNER_PRICES", raising=False)
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_runners_table_is_dated_and_prices_common_sizes_and_regions() -> None:
    table = shipped_table()
    assert table.source.kind == "table"
    assert table.source.date == "2024-06-01" and table.source.currency == "USD"
    assert "prices-2024-06-01.json" in table.source.name
    for region in ("eastus", "westeurope", "northeurope", "uksouth"):
        assert table.vm_hourly(region, "Standard_D2s_v3", windows=False, low_priority=False)
        assert table.vm_hourly(region, "Standard_D2s_v3", windows=False, low_priority=True)
        assert table.aci_hourly(region, "Standard vCPU Duration")
        assert table.aci_hourly(region, "Standard Memory Duration")


def test_the_api_is_asked_for_what_the_specs_need_and_its_pages_followed(
    fake_api: FakeRetailPrices,
) -> None:
    table, note = price_table(None, "azure", [D2S, ACI])
    assert note == ""
    assert table.source.kind == "retail-api" and fake_api.url in table.source.name
    # Sizes are matched ignoring case, as the API's filters are.
    dedicated = table.vm_hourly("westeurope", "STANDARD_D2S_V3", windows=False, low_priority=False)
    assert dedicated == 0.5
    low = table.vm_hourly("westeurope", "Standard_D2s_v3", windows=False, low_priority=True)
    assert low == 0.1
    assert table.aci_hourly("westeurope", "Standard vCPU Duration") is None  # none served
    filters = [urllib.parse.unquote_plus(r) for r in fake_api.requests]
    assert any("serviceName eq 'Container Instances'" in f for f in filters)
    assert any("page=VM2" in f for f in filters)


def test_the_answer_is_cached_for_a_day(fake_api: FakeRetailPrices, tmp_path: Path) -> None:
    first = retail_api.retail_table([D2S], now=1_000_000.0)
    asked = len(fake_api.requests)
    again = retail_api.retail_table([D2S], now=1_000_000.0 + 3600)
    assert len(fake_api.requests) == asked and again.rows == first.rows
    assert again.source.date == "1970-01-12"  # the day the API was read, not today
    retail_api.retail_table([D2S], now=1_000_000.0 + retail_api.CACHE_SECONDS + 1)
    assert len(fake_api.requests) > asked


def test_a_silent_api_falls_back_to_runners_table_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(retail_api.ENDPOINT_ENV, "http://127.0.0.1:9/api/retail/prices")
    monkeypatch.setenv(retail_api.CACHE_ENV, str(tmp_path))
    monkeypatch.delenv("RUNNER_PRICES", raising=False)
    table, note = price_table(None, "azure", [D2S])
    assert table.source.kind == "table"
    assert note.startswith("the Retail Prices API did not answer (http://127.0.0.1:9/")


def test_the_local_target_never_asks_the_api(fake_api: FakeRetailPrices) -> None:
    table, _ = price_table(None, "local", [D2S])
    assert table.source.kind == "table" and fake_api.requests == []


def test_a_users_file_wins_and_a_saved_api_answer_is_one(
    fake_api: FakeRetailPrices, tmp_path: Path
) -> None:
    saved = tmp_path / "prices.json"
    saved.write_text(json.dumps({"BillingCurrency": "EUR", "Items": [item(currencyCode="EUR")]}))
    table, _ = price_table(str(saved), "azure", [D2S])
    assert table.source.kind == "file" and table.source.name == str(saved)
    assert (table.source.date, table.source.currency) == ("2025-03-01", "EUR")
    assert fake_api.requests == []


def test_a_file_that_is_not_prices_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"prices": []}')
    with pytest.raises(RunnerError, match="needs an Items list"):
        file_table(bad)


def test_the_endpoint_is_named_without_credentials_or_query() -> None:
    url = "https://user:hunter2@proxy.example:8443/api/retail/prices?sig=abc"
    assert retail_api.shown(url) == "https://proxy.example:8443/api/retail/prices"


def test_price_caches_and_sources_hold_no_secret(
    fake_api: FakeRetailPrices, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = ["client-secret-value", "sig-0123456789abcdef"]
    monkeypatch.setenv("AZURE_CLIENT_SECRET", secrets[0])
    monkeypatch.setenv(retail_api.ENDPOINT_ENV, f"{fake_api.url}?sig={secrets[1]}")
    table = retail_api.retail_table([D2S])
    cached = "".join(p.read_text() for p in (tmp_path / "cache").iterdir())
    assert "Standard_D2s_v3" in cached
    for secret in secrets:
        assert secret not in cached and secret not in table.source.model_dump_json()
