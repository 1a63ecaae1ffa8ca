"""Subscriptions and resource-provider registration, as ARM answers them: the
registrations and bodies (handlers: ``provider_handlers``).

Many SDK flows read a subscription or check that a provider is registered (and register it)
before they create anything: ``GET /subscriptions/{sub}``, ``GET /subscriptions``,
``GET /subscriptions/{sub}/providers[/{namespace}]`` and ``POST .../{namespace}/register``
(shapes from Microsoft.Resources ``resources.json`` / ``subscriptions.json`` and their
examples GetSubscription, GetProvider, RegisterProviders).
"""

from __future__ import annotations

from typing import Any

from runner.local.arm.request import ACI_LOCATIONS, ACI_VERSIONS, REGIONS, RESOURCES_VERSIONS
from runner.local.store import Store

KIND = "arm.provider"
TENANT_ID = "00000000-0000-0000-0000-000000000000"
SUBSCRIPTION_VERSIONS = tuple(
    sorted(
        {
            *RESOURCES_VERSIONS,
            "2016-06-01",
            "2019-06-01",
            "2019-11-01",
            "2020-01-01",
            "2021-01-01",
            "2022-12-01",
        }
    )
)
_ACI_TYPES = (
    (
        "containerGroups",
        "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, "
        "SupportsTags, SupportsLocation",
    ),
    ("serviceAssociationLinks", "None"),
    ("locations", "None"),
    ("locations/capabilities", "None"),
    ("locations/usages", "None"),
    ("locations/operations", "None"),
    ("locations/operationresults", "None"),
    ("locations/cachedImages", "None"),
    ("operations", "None"),
)
# Namespaces the local target serves, registered from the start.
SERVED = {"microsoft.containerinstance": "Microsoft.ContainerInstance"}


def display_name(location: str) -> str:
    """'westeurope' -> 'West Europe' (ARM lists a provider's locations by display name)."""
    return REGIONS.get(location.replace(" ", "").lower(), location)


def subscription_body(sub: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}",
        "subscriptionId": sub,
        "tenantId": TENANT_ID,
        "displayName": "Local subscription",
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
    }


class Providers:
    """Registration state per subscription and namespace, kept in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def state(self, sub: str, namespace: str) -> str:
        doc = self.store.get(KIND, f"{sub}/{namespace}".lower())
        if doc is not None:
            return str(doc["registrationState"])
        return "Registered" if namespace.lower() in SERVED else "NotRegistered"

    def set_state(self, sub: str, namespace: str, state: str) -> None:
        self.store.put(
            KIND, f"{sub}/{namespace}".lower(), {"namespace": namespace, "registrationState": state}
        )

    def known(self, sub: str) -> list[str]:
        names = {SERVED[k] for k in SERVED}
        names |= {str(d["namespace"]) for d in self.store.list(KIND, f"{sub}/".lower())}
        return sorted(names, key=str.lower)

    def body(self, sub: str, namespace: str) -> dict[str, Any]:
        name = SERVED.get(namespace.lower(), namespace)
        body: dict[str, Any] = {
            "id": f"/subscriptions/{sub}/providers/{name}",
            "namespace": name,
            "registrationState": self.state(sub, name),
            "registrationPolicy": "RegistrationRequired",
            "resourceTypes": [],
        }
        if name == "Microsoft.ContainerInstance":
            locations = [display_name(loc) for loc in ACI_LOCATIONS]
            body["resourceTypes"] = [
                {
                    "resourceType": rtype,
                    "locations": [] if rtype == "operations" else locations,
                    "apiVersions": sorted(ACI_VERSIONS, reverse=True),
                    "capabilities": caps,
                }
                for rtype, caps in _ACI_TYPES
            ]
        return body
