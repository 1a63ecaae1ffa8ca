"""How a ``BatchJob``'s tasks get ``job.secrets`` without any Batch API able to read them.

Batch returns a task's command line and environment settings on every GET, so a secret is
in neither. Apply reads each value from runner's own environment (``fromEnv``) and
uploads them as one blob of the input container; each task gets that blob as a resource
file through a read SAS that expires soon after the job's timeout, and its command line
is wrapped: the wrapper exports the values, deletes the file as soon as no attempt of the
task needs it again, and runs the spec's command under ``/bin/sh -c``.

Batch downloads resource files once per task, and retries it (``maxRetries``) in the same
working directory, so the wrapper counts attempts in a file beside it: the last possible
attempt deletes the secrets before the command starts, an earlier one once the command
succeeds.

Pure: the values come in as a mapping (``os.environ`` at apply) and are never in the plan.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from runner.spec.batch_environment import unset_secret
from runner.spec.models import BatchJob

# In the task's working directory: Batch's resource file paths are relative to it.
SECRETS_FILE = ".runner-secrets"
ATTEMPTS_FILE = ".runner-attempts"
SECRETS_PREFIX = "runner-secrets"  # blobs of the input container; input blobs hold no "/"


@dataclass(frozen=True)
class SecretsFile:
    """The blob holding a job's secrets, and for each variable, where its value comes
    from (the name of a variable of runner's environment)."""

    container: str
    blob: str
    sources: tuple[tuple[str, str], ...]  # (NAME, fromEnv), in the spec's order

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.sources)


class SecretUnset(Exception):
    """A variable of runner's environment that a secret comes from is not set."""

    def __init__(self, name: str, variable: str) -> None:
        super().__init__(unset_secret(name, variable))
        self.name = name
        self.variable = variable


def secrets_file(spec: BatchJob, container: str) -> SecretsFile | None:
    if not spec.job.secrets:
        return None
    return SecretsFile(
        container=container,
        blob=f"{SECRETS_PREFIX}/{spec.job.id}.env",
        sources=tuple((name, s.from_env) for name, s in spec.job.secrets.items()),
    )


def unset_secrets(spec: BatchJob, environ: Mapping[str, str]) -> list[SecretUnset]:
    """The secrets whose variable ``environ`` lacks."""
    return [
        SecretUnset(name, s.from_env)
        for name, s in spec.job.secrets.items()
        if s.from_env not in environ
    ]


def secrets_text(secrets: SecretsFile, environ: Mapping[str, str]) -> bytes:
    """The file the wrapper sources: ``NAME='value'`` lines, quoted for ``/bin/sh``.
    Raises ``SecretUnset``."""
    lines = []
    for name, variable in secrets.sources:
        if variable not in environ:
            raise SecretUnset(name, variable)
        lines.append(f"{name}={shlex.quote(environ[variable])}\n")
    return "".join(lines).encode()


def wrapped_command(command: str, retries: int) -> str:
    """The shell line that hands the secrets to ``command``; ``retries`` is the task's
    ``maxRetries`` (its last attempt is ``retries + 1``)."""
    wd = '"$AZ_BATCH_TASK_WORKING_DIR"'
    steps = [
        f"RUNNER_TASK_SECRETS={wd}/{SECRETS_FILE}",
        f"RUNNER_TASK_ATTEMPT=$(( $(cat {wd}/{ATTEMPTS_FILE} 2>/dev/null || echo 0) + 1 ))",
        f'echo "$RUNNER_TASK_ATTEMPT" > {wd}/{ATTEMPTS_FILE}',
        '[ -f "$RUNNER_TASK_SECRETS" ] || { echo "runner: this task\'s secrets file is gone'
        ' (a retry after its last attempt)" >&2; exit 1; }',
        'set -a; . "$RUNNER_TASK_SECRETS"; set +a',
        f'if [ "$RUNNER_TASK_ATTEMPT" -gt {retries} ]; then rm -f "$RUNNER_TASK_SECRETS"; fi',
        f"/bin/sh -c {shlex.quote(command)}",
        "RUNNER_TASK_EXIT=$?",
        'if [ "$RUNNER_TASK_EXIT" -eq 0 ]; then rm -f "$RUNNER_TASK_SECRETS"; fi',
        'exit "$RUNNER_TASK_EXIT"',
    ]
    return "; ".join(steps)
