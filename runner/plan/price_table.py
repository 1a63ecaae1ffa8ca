"""Prices as data: the rows of an Azure Retail Prices API answer and the lookups the cost
estimate makes in them.

One shape for every source: runner's own dated table, a user's file and the API's answer
(https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices)
all hold ``Items`` of ``armRegionName``, ``armSkuName``, ``serviceName``, ``productName``,
``skuName``, ``meterName``, ``retailPrice``, ``unitOfMeasure``, ``currencyCode``,
``effectiveStartDate`` and ``type``, so a saved API answer is a valid user file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

VM_SERVICE = "Virtual Machines"
ACI_SERVICE = "Container Instances"
ACI_VCPU = "Standard vCPU Duration"
ACI_MEMORY = "Standard Memory Duration"
ACI_WINDOWS = "Standard Windows Software Duration"
# "1 Hour", "1 GB Hour", "100 Seconds", "1/Hour": what one retailPrice buys.
_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*/?\s*(?:GB|GiB)?\s*(hour|minute|second)s?\s*$", re.I)
_SECONDS = {"hour": 3600.0, "minute": 60.0, "second": 1.0}

SourceKind = Literal["table", "file", "retail-api"]


class PriceSource(BaseModel):
    """Where prices came from, as a plan names it: what, which date, which currency."""

    model_config = ConfigDict(frozen=True)

    kind: SourceKind
    name: str  # the file's name or the API's address: never a query string or a key
    date: str  # the table's date, or the day the API was read
    currency: str = "USD"


@dataclass(frozen=True)
class PriceRow:
    service: str
    region: str  # armRegionName, lower case
    arm_sku: str  # armSkuName, lower case ("" for ACI's meters)
    sku: str
    meter: str
    product: str
    price: float
    unit: str
    currency: str
    kind: str  # Consumption, Reservation, DevTestConsumption


def hourly(price: float, unit: str) -> float | None:
    """``price`` per hour of one unit, or None when the unit is not a duration."""
    match = _UNIT.match(unit)
    if not match:
        return None
    quantity = float(match.group(1) or 1)
    return price / quantity * 3600.0 / _SECONDS[match.group(2).lower()]


def _row(item: Mapping[str, Any]) -> PriceRow | None:
    try:
        price = float(item["retailPrice"])
    except (KeyError, TypeError, ValueError):
        return None
    return PriceRow(
        service=str(item.get("serviceName", "")),
        region=str(item.get("armRegionName", "")).lower(),
        arm_sku=str(item.get("armSkuName", "")).lower(),
        sku=str(item.get("skuName", "")),
        meter=str(item.get("meterName", "")),
        product=str(item.get("productName", "")),
        price=price,
        unit=str(item.get("unitOfMeasure", "")),
        currency=str(item.get("currencyCode", "USD")),
        kind=str(item.get("type", "Consumption")),
    )


@dataclass(frozen=True)
class PriceTable:
    source: PriceSource
    rows: tuple[PriceRow, ...]

    @classmethod
    def from_items(cls, source: PriceSource, items: Iterable[Mapping[str, Any]]) -> PriceTable:
        rows = tuple(r for r in map(_row, items) if r is not None)
        return cls(source=source, rows=rows)

    def regions(self, service: str) -> frozenset[str]:
        return frozenset(r.region for r in self.rows if r.service == service)

    def _consumption(self, service: str, region: str) -> list[PriceRow]:
        region = region.replace(" ", "").lower()
        return [
            r
            for r in self.rows
            if r.service == service and r.region == region and r.kind == "Consumption"
        ]

    def vm_hourly(
        self, region: str, size: str, *, windows: bool, low_priority: bool
    ) -> float | None:
        """One node of ``size`` for an hour, as Batch bills it: the VM's price (Batch
        itself is free); a low-priority node at its Low Priority meter, never Spot's."""
        for row in self._consumption(VM_SERVICE, region):
            if row.arm_sku != size.lower():
                continue
            if ("Low Priority" in row.sku) != low_priority or "Spot" in row.sku:
                continue
            if row.product.endswith("Windows") != windows:
                continue
            rate = hourly(row.price, row.unit)
            if rate is not None:
                return rate
        return None

    def aci_hourly(self, region: str, meter: str) -> float | None:
        """One vCPU (or GB of memory) of a standard container group for an hour."""
        for row in self._consumption(ACI_SERVICE, region):
            if row.meter == meter and row.sku == "Standard":
                rate = hourly(row.price, row.unit)
                if rate is not None:
                    return rate
        return None
