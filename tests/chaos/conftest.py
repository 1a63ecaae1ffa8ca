"""The crash-and-resume suite: ``runner apply`` stopped by SIGKILL or SIGINT at points
spread over its run, then applied again, compared with an uninterrupted run, destroyed,
and searched for leftovers.

The default run holds a few points per kind (unmarked tests); ``pytest -m chaos
tests/chaos`` runs the full set. The figures are printed at the end of either.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import pytest

# The flow's and helpers' asserts explain themselves like the tests' own.
pytest.register_assert_rewrite("chaos_flow", "chaos_process", "chaos_readback")

from chaos_figures import FIGURES  # noqa: E402
from chaos_process import Cli, env_for  # noqa: E402

RELIABILITY = Path(__file__).resolve().parents[1] / "reliability"


def _secret_scanner_class() -> Any:
    """The shared scanner of tests/reliability (its ``count`` is "secrets found")."""
    path = RELIABILITY / "secret_scan.py"
    if not path.exists():
        return None
    name = "chaos_secret_scan"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name].SecretScanner


@pytest.fixture(scope="session")
def secure_token() -> str:
    """The secure environment value of the container-group set: it must never show."""
    return f"chaos-token-{secrets.token_hex(12)}"


@pytest.fixture(scope="session")
def known_secrets(emulator: dict[str, Any], secure_token: str) -> dict[str, str]:
    storage_key = emulator["storage"]["connection_string"].split("AccountKey=")[1].split(";")[0]
    return {
        "secure environment value": secure_token,
        "batch account key": emulator["batch"]["key"],
        "storage account key": storage_key,
    }


class Scan:
    """Counts secrets in what runs printed and wrote; each finding fails its test."""

    def __init__(self, known: dict[str, str]) -> None:
        scanner = _secret_scanner_class()
        self.scanner = scanner(known) if scanner is not None else None
        self.known = known

    def text(self, text: str, where: str) -> list[str]:
        FIGURES.secrets_scanned += 1
        if self.scanner is not None:
            found = [str(f) for f in self.scanner.scan_text(text, where)]
        else:
            found = [f"{name} in {where}" for name, value in self.known.items() if value in text]
        FIGURES.secrets_found += len(found)
        return found

    def folder(self, folder: Path) -> list[str]:
        found: list[str] = []
        for path in sorted(folder.rglob("*")) if folder.exists() else ():
            if path.is_file() and not path.is_symlink():
                found += self.text(path.read_text(errors="replace"), str(path))
        return found


@pytest.fixture(scope="session")
def scan(known_secrets: dict[str, str]) -> Scan:
    return Scan(known_secrets)


@pytest.fixture(scope="session")
def instance(emulator: dict[str, Any]) -> str:
    """The emulator's instance id: its Docker containers carry it as a label."""
    from runner.backends import local_target

    health = local_target.health(emulator)
    assert health, "the local target does not answer its health check"
    return str(health["instance"])


@pytest.fixture(scope="session")
def make_cli(emulator: dict[str, Any]) -> Any:
    """``make_cli(folder)``: a CLI runner working in ``folder`` (made if missing)."""

    def make(folder: Path) -> Cli:
        folder.mkdir(parents=True, exist_ok=True)
        return Cli(cwd=folder, env=env_for(dict(os.environ)), status=emulator)

    return make


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES.points:
        return
    terminalreporter.section("crash-and-resume figures")
    for line in FIGURES.lines():
        terminalreporter.write_line(line)
    terminalreporter.write_line("points:")
    for row in FIGURES.rows:
        terminalreporter.write_line(f"  {row}")
