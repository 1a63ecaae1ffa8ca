"""The ``runner`` CLI in a subprocess, as a user runs it: one home for how tests start it.

``runner`` waits for it to finish; ``start_runner`` leaves it running (for signals, prompts, reading
its output as it goes). ``no_target`` is an environment whose local target folder does not
exist, for checks that must fail before any target is started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

CLI_TIMEOUT = 180.0
ARGV = [sys.executable, "-m", "runner"]

Stdin = int | IO[Any] | None

# Signals a test sends to a process it started. A run under nohup, or in the background of
# a shell without job control, inherits them ignored, and an ignored signal stays ignored
# across exec: the process would never see the signal the test is about.
SENT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def default_signals() -> None:
    """``preexec_fn`` giving a child the default handling of the signals tests send."""
    for sig in SENT_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def runner(
    env: Mapping[str, str] | None,
    cwd: Path,
    *args: str,
    input: str | None = None,
    stdin: Stdin = subprocess.DEVNULL,
    timeout: float = CLI_TIMEOUT,
    preexec_fn: Callable[[], Any] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``runner ARGS...`` in ``cwd`` with ``env`` (None: this process's environment)."""
    return subprocess.run(
        [*ARGV, *args],
        cwd=cwd,
        env=None if env is None else dict(env),
        input=input,
        stdin=None if input is not None else stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )


def start_runner(
    env: Mapping[str, str] | None, cwd: Path, *args: str, stdin: Stdin = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    """``runner ARGS...`` started, its output piped for the test to read."""
    return subprocess.Popen(
        [*ARGV, *args],
        cwd=cwd,
        env=None if env is None else dict(env),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )


def no_target(cwd: Path) -> dict[str, str]:
    return {**os.environ, "RUNNER_LOCAL_DIR": str(cwd / "no-target")}


def runner_without_target(
    cwd: Path, *args: str, **options: Any
) -> subprocess.CompletedProcess[str]:
    """``runner ARGS...`` where no local target can be found or started."""
    return runner(no_target(cwd), cwd, *args, timeout=options.pop("timeout", 60.0), **options)
