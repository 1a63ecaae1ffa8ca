"""ARM error codes, in one table, and the one exception every ARM handler raises.

Bodies are ARM's ``{"error": {"code", "message"}}``; codes and wording follow what Azure
Resource Manager sends (CloudError in the REST specs).
"""

from __future__ import annotations

from collections.abc import Mapping

# code -> (HTTP status, message template)
ARM_ERRORS: dict[str, tuple[int, str]] = {
    "AuthenticationFailed": (
        401,
        "Authentication failed. The 'Authorization' header is missing or is not a bearer token.",
    ),
    # Tokens of the identity platform (runner.local.identity), as ARM words its answers.
    "InvalidAuthenticationToken": (401, "The access token is invalid."),
    "InvalidAuthenticationTokenAudience": (
        401,
        "The access token has been obtained for wrong audience or resource '{audience}'. It "
        "should exactly match with one of the allowed audiences "
        "'https://management.core.windows.net/','https://management.core.windows.net',"
        "'https://management.azure.com/','https://management.azure.com'.",
    ),
    "ExpiredAuthenticationToken": (
        401,
        "The access token expiry UTC time '{expiry}' is earlier than current UTC time '{now}'.",
    ),
    "MissingApiVersionParameter": (
        400,
        "The api-version query parameter (?api-version=) is required for all requests.",
    ),
    "NoRegisteredProviderFound": (
        400,
        "No registered resource provider found for location '{location}' and API version "
        "'{version}' for type '{type}'. The supported api-versions are '{supported}'. "
        "The supported locations are '{locations}'.",
    ),
    "InvalidApiVersionParameter": (
        400,
        "The api-version '{version}' is invalid. The supported versions are '{supported}'.",
    ),
    "ResourceGroupNotFound": (404, "Resource group '{rg}' could not be found."),
    "InvalidResourceNamespace": (404, "The resource namespace '{namespace}' is invalid."),
    "InvalidResourceType": (
        404,
        "The resource type '{type}' could not be found in the namespace '{namespace}' for api "
        "version '{version}'.",
    ),
    "ResourceNotFound": (
        404,
        "The Resource '{type}/{name}' under resource group '{rg}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    ),
    "InvalidRequestContent": (
        400,
        "The request content was invalid and could not be deserialized: '{detail}'.",
    ),
    "LocationRequired": (400, "The location property is required for this definition."),
    "InvalidResourceGroup": (
        400,
        "The provided resource group name '{rg}' has these invalid characters: '{chars}'. "
        "The name can only be a letter, digit, '-', '.', '(', ')' or '_'.",
    ),
    "ResourceGroupBeingDeleted": (
        409,
        "The resource group '{rg}' is in deprovisioning state and cannot perform this operation.",
    ),
    "InvalidFilterInQueryString": (
        400,
        "Invalid $filter '{filter}' specified in the query string. Resource groups can be "
        "filtered by tagName, or by tagName and tagValue.",
    ),
    "NotFound": (404, "The requested resource '{path}' was not found."),
    "MethodNotAllowed": (405, "The requested method '{method}' is not allowed for '{path}'."),
}


class ArmError(Exception):
    """An ARM error answer: raised by state and handlers, rendered by the app."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


def arm_error(
    code: str, table: Mapping[str, tuple[int, str]] | None = None, **fields: object
) -> ArmError:
    """The error ``code`` of ``table`` (ARM's by default), its message filled with ``fields``."""
    status, template = (table or ARM_ERRORS)[code]
    return ArmError(status, code, template.format(**fields))
