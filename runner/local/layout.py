"""What the local target's server and its client (``runner.backends.local_target``) agree
on: the files of a state folder, what each port serves, which variables name a Docker engine.

The client reads these names from here rather than from copies of its own: one definition
cannot drift from the server that writes the files. The price is that this module, like
``runner.local.processes``, the other one the client imports, stays standard library only,
so that a local ``runner plan`` loads none of the server's web, TLS or Docker libraries;
``pyproject.toml``'s import-linter contracts hold both to that.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Written by the emulator once every part answers, removed when it stops.
STATUS_FILE = "status.json"
# The pids of the processes the emulator started (Azurite), for a ``down`` after a crash.
CHILDREN_FILE = "children.json"
# Why the last start failed, in words for the user.
START_ERROR_FILE = "start-error.txt"
SETTINGS_FILE = "settings.json"
ENDPOINTS_FILE = "endpoints.json"
LOG_FILE = "server.log"
FAULTS_FILE = "faults.json"

# What each port serves, in the words a user sees in `runner local status`.
ROLES = {
    "arm": "ARM endpoint",
    "batch": "Batch URL",
    "blob": "Blob endpoint (Azurite)",
    "identity": "identity endpoint",
}

# What docker's ``from_env`` reads; the engine of an emulator is named by these alone.
DOCKER_VARIABLES = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


def docker_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Docker variables of ``environ`` (default: this process's), ``DOCKER_HOST``
    always spelt out, so that two callers naming one engine compare equal."""
    source = os.environ if environ is None else environ
    # docker-py treats an empty value as an unset one.
    found = {name: source[name] for name in DOCKER_VARIABLES if source.get(name)}
    found.setdefault("DOCKER_HOST", DEFAULT_DOCKER_HOST)
    return found


def write_json(path: Path, data: Any) -> None:
    """Replaces ``path`` whole: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def read_json(path: Path) -> Any:
    """The JSON in ``path``; None when it is missing or not JSON (yet)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
