"""What the scheduler holds of a running task attempt, whatever runs it."""

from __future__ import annotations

import threading


class Running:
    """A started task attempt (a process here, or a container: ``container_run``) and why
    it was stopped, if it was."""

    def __init__(self) -> None:
        self.stop_reason: str | None = None
        self._lock = threading.Lock()

    def stop(self, reason: str) -> None:
        with self._lock:
            if self.stop_reason is None:
                self.stop_reason = reason
        self.kill()

    def kill(self) -> None:
        raise NotImplementedError

    def identity(self) -> str | None:
        """What a restart after a crash finds it by (``kill_leftover``)."""
        raise NotImplementedError
