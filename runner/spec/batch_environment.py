"""Environment of a ``BatchJob``'s tasks: ``tasks.environment`` (each task's, templates as
``command`` is) and ``job.environment`` (every task's: Batch's common environment), and
``job.secrets``, values that no Batch API can read back.

Batch returns environment values to anyone who can read the job or its tasks, so a value
that looks secret is refused here, named after its field, never shown: by its name
(``*PASSWORD*``, ``*SECRET*``, ``*TOKEN*``, ``*KEY``) or by its look (an account key, a
SAS, a connection string, a private key, a token). Such a value goes in ``job.secrets``
(``NAME: {fromEnv: VARIABLE}``): runner reads it from its own environment at apply and
hands it to each task in a file (``runner.plan.batch_secrets``).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from runner.spec.base import ENV_NAME, Model, _numbers_as_text, located

# Names Batch sets on every node, and the ones runner sets itself (the identity of what a
# task runs on; the variables of the command that hands a task its secrets).
RESERVED_PREFIXES = ("AZ_BATCH_", "RUNNER_TASK_")
RESERVED_NAMES = ("RUNNER_TASK_IDENTITY",)

_SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|(?:^|_)[A-Z]*KEYS?(?:$|_)"
)
# Values no secret has: what a flag or a count holds.
_PLAIN = re.compile(r"^(?:[-+]?\d+(?:\.\d+)?|true|false|yes|no|on|off)?$", re.IGNORECASE)
_LOOKS = (
    (
        re.compile(r"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd)="),
        "a connection string holding a key or password",
    ),
    (re.compile(r"(?i)(?:^|[?&])sig=[^&\s]{16,}"), "a shared access signature (sig=)"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\."), "a JSON web token"),
    (
        re.compile(
            r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,}|xox[abprs]-[\w-]{10,}"
            r"|AKIA[0-9A-Z]{16}|sk-[\w-]{20,})"
        ),
        "an access token",
    ),
    (re.compile(r"://[^/\s:@]+:[^/\s@]+@"), "a URL with a password in it"),
)
# An account key: base64 of 32 bytes or more, as Storage and Batch give them.
_KEY = re.compile(r"^[A-Za-z0-9+/]{40,}={0,2}$")
_USE_SECRETS = (
    "Batch shows environment values to anyone who can read the job: give it as "
    "job.secrets.{name}: {{fromEnv: VARIABLE}}, read from runner's environment at apply"
)


def reserved_problem(name: str) -> str | None:
    """Why ``name`` is not the user's to set, or None."""
    upper = name.upper()
    if upper in RESERVED_NAMES or upper.startswith(RESERVED_PREFIXES):
        return (
            f"{name} is not yours to set: names starting with AZ_BATCH_ are Batch's, "
            "RUNNER_TASK_* runner's (RUNNER_TASK_IDENTITY records what a task runs on)"
        )
    return None


def looks_secret(value: str) -> str | None:
    """What ``value`` looks like, when it looks like a secret, or None. Never the value."""
    for pattern, what in _LOOKS:
        if pattern.search(value):
            return what
    text = value.strip()
    mixed = all(re.search(p, text) for p in ("[A-Z]", "[a-z]", "[0-9]"))
    if _KEY.match(text) and mixed and not text.startswith("/") and text.count("/") < 4:
        return "an account key (base64)"
    return None


def environment_problem(name: str, value: str) -> str | None:
    """Why ``name: value`` may not be a plain environment setting, or None."""
    problem = reserved_problem(name)
    if problem:
        return problem
    if _SECRET_NAME.search(name.upper()) and not _PLAIN.match(value.strip()):
        return (
            f"{name} looks like a secret (its name says so), and "
            + _USE_SECRETS.format(name=name)
            + "; if it is no secret, give it a name that does not say so"
        )
    what = looks_secret(value)
    if what:
        return f"the value of {name} looks like {what}, and " + _USE_SECRETS.format(name=name)
    return None


def _name(name: str) -> str:
    if not ENV_NAME.match(name):
        raise located(
            f"environment variable name {name!r} is not one a shell can set: a letter or "
            "'_', then letters, digits and '_'"
        )
    return name


def _settings(values: dict[str, str]) -> dict[str, str]:
    for name, value in values.items():
        # A template is checked once rendered for each task; its literal text here.
        problem = environment_problem(name, value)
        if problem:
            raise located(problem, name)
    return values


EnvironmentName = Annotated[str, AfterValidator(_name)]
BatchEnvironment = Annotated[
    dict[EnvironmentName, str],
    BeforeValidator(_numbers_as_text),
    AfterValidator(_settings),
    Field(json_schema_extra={"propertyNames": {"pattern": ENV_NAME.pattern}}),
]


class Secret(Model):
    """A value runner reads from its own environment when apply runs, never written in the
    spec, the plan or any Batch definition."""

    from_env: EnvironmentName


def unset_secret(name: str, variable: str) -> str:
    return (
        f"secret {name}: the environment variable {variable} is not set (runner reads it "
        "when apply runs; it is in no spec, plan or Batch definition)"
    )


def _secrets(values: dict[str, Secret]) -> dict[str, Secret]:
    for name in values:
        problem = reserved_problem(name)
        if problem:
            raise located(problem, name)
    return values


SecretMap = Annotated[
    dict[EnvironmentName, Secret],
    AfterValidator(_secrets),
    Field(json_schema_extra={"propertyNames": {"pattern": ENV_NAME.pattern}}),
]
