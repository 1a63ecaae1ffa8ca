"""Azurite, the Blob storage of the local target: found or installed, started, stopped.

Azurite 3.35.0 is the last release that runs on Node 20. It is looked up as
``$RUNNER_AZURITE_BIN``, then ``azurite-blob`` on ``PATH``, then in the cache folder, where
``npm install`` puts it on first use. It serves plain HTTP on a loopback port, free on the
first start and the same one after (``runner.local.endpoints``); SAS URLs handed to Batch
tasks therefore look like ``http://127.0.0.1:<port>/devstoreaccount1/...``. Given the
target's certificate it serves HTTPS instead, and with ``oauth`` accepts bearer tokens
(``--oauth basic``, which Azurite allows over HTTPS only) and hands out user delegation keys.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from runner.local import processes
from runner.local.endpoints import PortTaken, check_free, taken_message

AZURITE_VERSION = "3.35.0"

# The well-known development account every Azurite serves (documented by Azurite's README).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

_LISTENING = re.compile(r"successfully listens on (https?://\S+)")
READY_TIMEOUT = 30.0


class AzuriteError(RuntimeError):
    """Azurite could not be found, installed or started."""


@dataclass
class AzuriteInfo:
    """A running Azurite blob service."""

    account: str
    key: str
    blob_endpoint: str
    pid: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def connection_string(self) -> str:
        protocol = self.blob_endpoint.split(":", 1)[0]
        return (
            f"DefaultEndpointsProtocol={protocol};AccountName={self.account};"
            f"AccountKey={self.key};BlobEndpoint={self.blob_endpoint};"
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop Azurite; its data stays in the ``--location`` folder."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout)
            return
        _kill_pid(self.pid, timeout)


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "runner" / f"azurite-{AZURITE_VERSION}"


def find_azurite(install: bool = True) -> Path:
    """Return the ``azurite-blob`` executable, installing it into the cache when allowed."""
    env_bin = os.environ.get("RUNNER_AZURITE_BIN")
    if env_bin:
        path = Path(env_bin).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise AzuriteError(f"RUNNER_AZURITE_BIN={env_bin} is not an executable file")
    on_path = shutil.which("azurite-blob")
    if on_path:
        return Path(on_path)
    cached = cache_dir() / "node_modules" / ".bin" / "azurite-blob"
    if cached.is_file():
        return cached
    if not install:
        raise AzuriteError("azurite-blob not found on PATH, in RUNNER_AZURITE_BIN or the cache")
    return _install(cached)


def _install(target: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise AzuriteError(
            "azurite-blob is not installed and npm is missing: install Node.js 20 and npm, "
            f"or run `npm install -g azurite@{AZURITE_VERSION}`"
        )
    prefix = cache_dir()
    prefix.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(prefix),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"azurite@{AZURITE_VERSION}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not target.is_file():
        raise AzuriteError(f"npm install azurite@{AZURITE_VERSION} failed: {result.stderr[-2000:]}")
    return target


def start_azurite(
    state_dir: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: tuple[Path, Path] | None = None,
    oauth: bool = False,
) -> AzuriteInfo:
    """Start Azurite on ``port`` (0: a free one) with its data under ``state_dir/azurite``;
    over HTTPS with ``tls`` (certificate, key), taking bearer tokens too with ``oauth``.

    Raises ``PortTaken`` when another process listens on ``port``."""
    if oauth and tls is None:
        raise AzuriteError("Azurite accepts bearer tokens over HTTPS only: give it a certificate")
    secure = ["--cert", str(tls[0]), "--key", str(tls[1])] if tls else []
    if oauth:
        secure += ["--oauth", "basic"]
    executable = find_azurite()
    location = Path(state_dir) / "azurite"
    location.mkdir(parents=True, exist_ok=True)
    pid_file = location / "azurite.pid"
    _stop_stale(pid_file, state_dir)
    check_free(host, port, "blob", state_dir)
    log_path = location / "azurite.log"
    # Port 0 lets Azurite pick a free port and print it, so there is no bind race.
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(executable),
                "--blobHost",
                host,
                "--blobPort",
                str(port),
                "--location",
                str(location),
                "--skipApiVersionCheck",
                "--loose",
                "--silent",
                "--disableTelemetry",
                *secure,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file.write_text(str(process.pid))
    try:
        endpoint = _wait_listening(process, log_path)
    except AzuriteError as exc:
        if port and "EADDRINUSE" in str(exc):  # taken between the check and Azurite's bind
            raise PortTaken(taken_message(host, port, "blob", state_dir)) from None
        raise
    return AzuriteInfo(
        account=ACCOUNT,
        key=ACCOUNT_KEY,
        blob_endpoint=f"{endpoint}/{ACCOUNT}",
        pid=process.pid,
        process=process,
    )


def _wait_listening(process: subprocess.Popen[bytes], log_path: Path) -> str:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        match = _LISTENING.search(text)
        if match:
            return match.group(1).rstrip("/")
        if process.poll() is not None:
            raise AzuriteError(f"azurite-blob exited with {process.returncode}: {text[-2000:]}")
        time.sleep(0.05)
    process.kill()
    raise AzuriteError(f"azurite-blob was not ready within {READY_TIMEOUT:.0f}s")


def _stop_stale(pid_file: Path, state_dir: Path) -> None:
    """Stop an Azurite left behind by a killed emulator, so two never share one folder (nor
    its port)."""
    stale = set(processes.azurites_of(state_dir))
    try:
        pid = int(pid_file.read_text().strip())
        if b"azurite" in Path(f"/proc/{pid}/cmdline").read_bytes():
            stale.add(pid)
    except (OSError, ValueError):
        pass
    for pid in stale:
        _kill_pid(pid, 5.0)


def _kill_pid(pid: int, timeout: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not processes.alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    # Its port must be free when this returns: the next Azurite binds the same one.
    while time.monotonic() < deadline + timeout and processes.alive(pid):
        time.sleep(0.05)
