"""What the CLI process imports: no Azure SDK for ``runner --help``, and never the local
target's server stack (Flask, Werkzeug, cryptography, Docker), which runs in a process of
its own; and no import cycles anywhere in the package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SPECS = REPO / "specs"
SERVER_STACK = ("flask", "werkzeug", "cryptography", "docker")
# What the local target's client shares with its server: standard library only.
CLIENT_SIDE_OF_LOCAL = {"runner.local", "runner.local.layout", "runner.local.processes"}

# Runs the CLI, then writes which of the watched packages got imported and, for each, the
# module whose import statement first loaded it.
AUDIT = """
import json, sys

WATCHED = {watched!r}
MACHINERY = ("importlib", "_frozen")
first = {{}}


class Watch:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in WATCHED and top not in first:
            frame = sys._getframe(1)
            while frame and frame.f_globals.get("__name__", "").startswith(MACHINERY):
                frame = frame.f_back
            first[top] = frame.f_globals.get("__name__", "?") if frame else "?"
        return None


sys.meta_path.insert(0, Watch())
sys.argv = ["runner", *sys.argv[1:]]
try:
    from runner.cli import main

    main()
finally:
    local = sorted(m for m in sys.modules if m.startswith("runner.local"))
    with open({out!r}, "w") as handle:
        json.dump({{"first": first, "runner_local": local}}, handle)
"""


def audited(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = tmp_path / "imports.json"
    out.unlink(missing_ok=True)
    code = AUDIT.format(watched=(*SERVER_STACK, "azure", "rich"), out=str(out))
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode in (0, 2), done.stdout + done.stderr  # 2: plan saw changes
    found: dict[str, Any] = json.loads(out.read_text())
    return found


def test_cli_import_loads_no_azure_sdk() -> None:
    code = (
        "import sys, runner.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'docker', 'rich')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_and_validate_load_nothing_of_the_server(tmp_path: Path) -> None:
    for args in (["--help"], ["validate", str(SPECS / "topwords.yaml")]):
        found = audited(tmp_path, *args)
        assert not set(found["first"]) & set(SERVER_STACK), (args, found)
        assert set(found["runner_local"]) <= CLIENT_SIDE_OF_LOCAL, (args, found)


@pytest.mark.integration
@pytest.mark.parametrize("command", ["plan", "status"])
@pytest.mark.parametrize("spec", ["aci-hello.yaml", "topwords.yaml"])
def test_plan_and_status_on_the_local_target_load_nothing_of_the_server(
    emulator: dict[str, Any], tmp_path: Path, command: str, spec: str
) -> None:
    env = {**os.environ, "RUNNER_TARGET": "local"}
    found = audited(tmp_path, command, str(SPECS / spec), env=env)
    first = found["first"]
    assert "azure" in first, "the command reached no Azure SDK: nothing was audited"
    assert set(found["runner_local"]) <= CLIENT_SIDE_OF_LOCAL, found
    assert not {"flask", "werkzeug", "docker"} & set(first), found
    # The Blob SDK imports cryptography itself (client-side encryption), for a BatchJob's
    # storage; nothing else may.
    importer = first.get("cryptography")
    assert importer is None or importer.startswith("azure.storage."), found
    if spec.startswith("aci-"):
        assert importer is None, found


def test_no_import_cycles_in_the_package() -> None:
    import grimp

    graph = grimp.build_graph("runner", cache_dir=None)
    cycles = [
        " -> ".join((module, *chain))
        for module in sorted(graph.modules)
        for imported in sorted(graph.find_modules_directly_imported_by(module))
        if (chain := graph.find_shortest_chain(importer=imported, imported=module))
    ]
    assert cycles == []
