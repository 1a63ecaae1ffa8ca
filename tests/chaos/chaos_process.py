"""``runner`` in a subprocess, stopped by a signal at a chosen point of its run.

A point is "after the Nth request the emulator counted" (read through
``runner.backends.local_target.counters``, reset when the apply starts) or "after the Nth JSON
line the apply printed" (which also reaches the Blob steps: Azurite's requests are not
counted). Points are given as fractions of an uninterrupted run's totals, so the same
list spreads over any run.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from runner_cli import ARGV, default_signals

CLI_TIMEOUT = 240.0  # a bound on one CLI run, never asserted
WATCH_EVERY = 0.005  # seconds between two looks at the counters

Trigger = Literal["requests", "lines", "match"]


@dataclass(frozen=True)
class KillPoint:
    """Where to stop an apply: ``fraction`` of the reference run's requests or lines, or
    (``match``) the first line holding ``text``."""

    sig: int
    trigger: Trigger
    fraction: float = 0.0
    faults: bool = False  # 429, 500 and dropped connections during the run and the re-apply
    text: str = ""
    label: str = ""  # names a ``match`` point in test ids

    @property
    def id(self) -> str:
        name = "kill" if self.sig == signal.SIGKILL else "int"
        storm = "-faults" if self.faults else ""
        if self.trigger == "match":
            return f"{name}-at-{self.label}{storm}"
        return f"{name}-{self.trigger}-{round(self.fraction * 100):02d}pct{storm}"

    def threshold(self, totals: dict[str, int]) -> int:
        return max(1, round(self.fraction * totals[self.trigger]))

    def reached(self, requests: int, lines: list[str], totals: dict[str, int]) -> bool:
        if self.trigger == "match":
            return any(self.text in line for line in lines)
        seen = requests if self.trigger == "requests" else len(lines)
        return seen >= self.threshold(totals)


def spread(sig: int, count: int, *, faults_every: int = 0, first: float = 0.0) -> list[KillPoint]:
    """``count`` points spread evenly over a run, alternating the two triggers; every
    ``faults_every``-th point also injects faults."""
    points = []
    for i in range(count):
        fraction = (i + 0.5 + first) / count
        trigger: Trigger = "requests" if i % 2 == 0 else "lines"
        storm = bool(faults_every) and i % faults_every == faults_every - 1
        points.append(KillPoint(sig, trigger, min(fraction, 0.99), storm))
    return points


def point_params(ci: list[KillPoint], full: list[KillPoint]) -> list[Any]:
    """Test parameters: the ``ci`` points run by default; the full run (``-m chaos``)
    runs those again with the ``full`` ones."""
    import pytest

    return [pytest.param(p, id=f"ci-{p.id}") for p in ci] + [
        pytest.param(p, id=f"full-{p.id}", marks=pytest.mark.chaos) for p in [*ci, *full]
    ]


@dataclass
class Run:
    args: list[str]
    code: int
    out: str
    err: str
    signalled: bool = False  # the signal was sent before the run ended by itself
    requests_at_signal: int = 0
    lines_at_signal: int = 0

    @property
    def done_before_signal(self) -> bool:
        """The signal came after the run printed its result: its work was done."""
        if not self.signalled:
            return False
        seen = json_lines("".join(self.out.splitlines(keepends=True)[: self.lines_at_signal]))
        return any(d.get("type") == "result" for d in seen)

    @property
    def text(self) -> str:
        return self.out + self.err

    @property
    def lines(self) -> list[dict[str, Any]]:
        return json_lines(self.out)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.lines if d.get("type") == kind]

    def result(self) -> dict[str, Any]:
        results = self.of_type("result")
        assert results, f"no result line:\n{self.describe()}"
        return results[-1]

    def retries(self) -> int:
        return len(self.of_type("StepRetrying"))

    def describe(self) -> str:
        return (
            f"runner {' '.join(self.args)} exited {self.code}\n"
            f"--- stdout\n{self.out}\n--- stderr\n{self.err}"
        )

    def expect(self, code: int) -> Run:
        assert self.code == code, f"expected exit {code}: {self.describe()}"
        return self


def json_lines(text: str) -> list[dict[str, Any]]:
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except ValueError:
                continue  # a line cut by SIGKILL
    return found


@dataclass
class Cli:
    """Runs ``runner ...`` in ``cwd`` with a fixed environment."""

    cwd: Path
    env: dict[str, str]
    status: dict[str, Any]  # the local target's status dict (control API, CA bundle)
    runs: list[Run] = field(default_factory=list)  # every run, for the secrets scan

    def argv(self, args: list[str]) -> list[str]:
        return [*ARGV, *args]

    def __call__(self, *args: str) -> Run:
        proc = subprocess.run(
            self.argv(list(args)),
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
        )
        run = Run(list(args), proc.returncode, proc.stdout, proc.stderr)
        self.runs.append(run)
        return run

    def interrupted(self, args: list[str], point: KillPoint, totals: dict[str, int]) -> Run:
        """Starts ``runner *args``, sends ``point.sig`` once the point is reached, and
        returns the finished run. ``signalled`` is False when the run ended first."""
        from runner.backends import local_target

        local_target.reset_counters(self.status)
        proc = subprocess.Popen(
            self.argv(args),
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=default_signals,
        )
        out: list[str] = []
        err: list[str] = []
        readers = [
            threading.Thread(target=_drain, args=(proc.stdout, out), daemon=True),
            threading.Thread(target=_drain, args=(proc.stderr, err), daemon=True),
        ]
        for reader in readers:
            reader.start()
        run = Run(list(args), 0, "", "")
        deadline = time.monotonic() + CLI_TIMEOUT
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                requests = sum(local_target.counters(self.status).values())
                lines = list(out)
                if point.reached(requests, lines, totals):
                    if proc.poll() is None:
                        proc.send_signal(point.sig)
                        run.signalled = True
                        run.requests_at_signal, run.lines_at_signal = requests, len(lines)
                    break
                time.sleep(WATCH_EVERY)
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for reader in readers:
                reader.join(timeout=10)
        run.code = proc.returncode
        run.out, run.err = "".join(out), "".join(err)
        self.runs.append(run)
        return run


def _drain(stream: Any, into: list[str]) -> None:
    for line in stream:
        into.append(line)
    stream.close()


def env_for(base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    env["RUNNER_TARGET"] = "local"
    env["COLUMNS"] = "200"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def sigkilled(run: Run) -> bool:
    return run.code == -signal.SIGKILL
