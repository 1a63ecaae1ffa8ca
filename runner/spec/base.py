"""What every spec model shares: the base model, naming rules, durations, located errors."""

from __future__ import annotations

import re
import string
from datetime import timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

# Azure Container Instances limits for Linux groups in most regions (per container).
# https://learn.microsoft.com/azure/container-instances/container-instances-region-availability
MAX_CPU_PER_CONTAINER = 4.0
MAX_MEMORY_GB_PER_CONTAINER = 16.0
MAX_CONTAINERS_PER_GROUP = 60
# ARM: 50 tags per resource, names up to 512 characters without <>%&\?/, values up to 256.
# https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations
MAX_TAGS = 50
MAX_TAG_NAME, MAX_TAG_VALUE = 512, 256
TAG_NAME_FORBIDDEN = set("<>%&\\?/")
# Ownership tags runner writes itself (managed-by, runner-spec, runner-workspace,
# runner-hash, runner-commit, runner-source, runner-expires) plus one fingerprint per
# secure value.
RUNNER_TAGS = 7

GROUP_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
CONTAINER_NAME = GROUP_NAME
DNS_LABEL = re.compile(r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")
RESOURCE_GROUP = re.compile(r"^[-\w._()]{1,90}$")
BLOB_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
MAX_BATCH_ID = 64
BATCH_ID = re.compile(rf"^[A-Za-z0-9_-]{{1,{MAX_BATCH_ID}}}$")
BATCH_ID_CHARS = frozenset(string.ascii_letters + string.digits + "-_")
DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        alias_generator=to_camel,
        frozen=True,
    )


def _not_bool(expected: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticCustomError(
                "bool_as_number", "expected {expected}, got a boolean", {"expected": expected}
            )
        return value

    return BeforeValidator(check)


# pydantic's lax mode reads true as 1 (`cpu: true`, `nodes: yes`). Strict types would
# refuse it but also the text a template renders (`nodes: "{{ vars.n }}"`): every number
# field uses one of these instead, which refuse booleans alone.
Number = Annotated[float, _not_bool("a number")]
WholeNumber = Annotated[int, _not_bool("a whole number")]


def parse_duration(value: Any) -> Any:
    """Accept ``20m``, ``1h30m``, ``90s`` or a number of seconds."""
    if isinstance(value, bool):
        shown = "true" if value else "false"
        raise ValueError(f"expected a duration such as 20m, 1h30m or 90s, got {shown}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = DURATION.match(value.strip())
        if match and any(match.groups()):
            h, m, s = (int(g or 0) for g in match.groups())
            return timedelta(hours=h, minutes=m, seconds=s)
        raise ValueError(f"expected a duration such as 20m, 1h30m or 90s, got {value!r}")
    return value


Duration = Annotated[
    timedelta,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION.pattern, "examples": ["20m", "1h30m"]},
                {"type": "number", "minimum": 0},
            ]
        }
    ),
]


class CostSettings(Model):
    """What a spec may say about its cost: the estimate's duration and a cap on it."""

    # How long one run is expected to take; unset, a run-to-completion spec is estimated
    # up to its timeout and an always-running group by the hour and the day.
    expected_duration: Duration | None = None
    # The most one apply may cost, in the price table's currency (USD for runner's own
    # table); for an always-running group with no expected duration, the most per day.
    cap: Number | None = Field(default=None, gt=0)

    _duration = field_validator("expected_duration", mode="before")(
        classmethod(lambda cls, v: parse_duration(v))
    )


def parse_ttl(value: Any) -> Any:
    """A ``ttl``: a duration (``2s``, ``8h``) that is more than nothing."""
    if value is None:
        return None
    ttl = parse_duration(value)
    if isinstance(ttl, timedelta) and ttl <= timedelta(0):
        raise ValueError("a ttl must be longer than 0s: leave it out for no expiry")
    return ttl


def spec_name(v: str) -> str:
    """A BatchJob's or Workflow's name: it names their resources and containers."""
    if not GROUP_NAME.match(v):
        raise ValueError(
            "spec names are 1-63 lowercase letters, digits and '-', not starting or ending with '-'"
        )
    return v


def located(message: str, *at: str | int) -> PydanticCustomError:
    """A rule broken below the model being validated: ``at`` is the path, relative to that
    model, of the value to point at (the loader appends it to the error's location)."""
    # The message travels in the context (filled in last), so braces in user values such
    # as names are never taken for placeholders.
    return PydanticCustomError("spec_rule", "{message}", {"at": list(at), "message": message})


# What ACI takes; it refuses other names (InvalidContainerEnvironmentVariable) only when
# the group is created, after its resource group was made.
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(name: str) -> str:
    if not name:
        raise located("environment variable names must not be empty")
    if "=" in name:
        before, _, after = name.partition("=")
        raise located(
            f"environment variable name {name!r} holds '=': a name ends at the first '=', "
            f"so the container would get {before}='{after}=<value>'"
        )
    if not ENV_NAME.match(name):
        raise located(
            f"environment variable name {name!r} is not one ACI takes: a letter or '_', "
            "then letters, digits and '_'"
        )
    return name


def _numbers_as_text(value: Any) -> Any:
    # Azure takes environment values and tags as strings; `NumWords: 5` means "5".
    if isinstance(value, dict):
        return {
            k: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
            for k, v in value.items()
        }
    return value


StringMap = Annotated[dict[str, str], BeforeValidator(_numbers_as_text)]
EnvMap = Annotated[
    dict[Annotated[str, AfterValidator(_env_name)], str],
    BeforeValidator(_numbers_as_text),
    Field(json_schema_extra={"propertyNames": {"pattern": ENV_NAME.pattern}}),
]
