"""Where a resource came from and when it expires: the ``Stamp`` an apply writes on
everything it makes, and the words ``status`` and ``gc`` say about it.

Pure: the engine reads git and the clock (``engine/provenance.py``); ``backends/tags.py``
writes and parses the tags. A stamp records, it does not define: the planner never
compares it (see ``backends/tags.py``), so a new commit that changes no spec plans as
"No changes".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from runner.plan.ownership import Ownership

SHORT_COMMIT = 7


@dataclass(frozen=True)
class Stamp:
    commit: str | None = None  # the full sha of HEAD when the spec was applied
    dirty: bool = False  # the working tree held changes, or the spec was not committed
    source: str | None = None  # the spec's path from the repository root, posix style
    expires: datetime | None = None  # UTC; None: never

    @property
    def empty(self) -> bool:
        return self.commit is None and self.source is None and self.expires is None


def merged(stamps: list[Stamp]) -> Stamp:
    """One stamp for a resource several specs share (a resource group): it expires when
    the last of them does, never if one of them never does; commit and source are kept
    only where they all agree."""
    if not stamps:
        return Stamp()
    first = stamps[0]
    same = all(s.commit == first.commit and s.dirty == first.dirty for s in stamps)
    expiries = [s.expires for s in stamps]
    return Stamp(
        commit=first.commit if same else None,
        dirty=first.dirty if same else False,
        source=first.source if all(s.source == first.source for s in stamps) else None,
        expires=None if any(e is None for e in expiries) else max(e for e in expiries if e),
    )


def commit_text(commit: str | None, dirty: bool = False) -> str:
    """``1a2b3c4`` or ``1a2b3c4-dirty``, as git describe --dirty spells it."""
    if not commit:
        return "unknown commit"
    return commit[:SHORT_COMMIT] + ("-dirty" if dirty else "")


def duration_text(delta: timedelta) -> str:
    """``1h05m``, ``4m10s``, ``12s``: two units at most."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def time_left(expires: datetime | None, now: datetime) -> str | None:
    """``5m00s left`` or ``expired 2m10s ago``; None when it never expires."""
    if expires is None:
        return None
    if expires > now:
        return f"{duration_text(expires - now)} left"
    return f"expired {duration_text(now - expires)} ago"


def stamp_detail(ownership: Ownership, now: datetime) -> dict[str, str]:
    """What ``runner status`` shows of a resource's stamp: ``expires`` (time left),
    ``commit`` (the full sha, ``-dirty`` appended; shortened when drawn) and ``source``."""
    detail: dict[str, str] = {}
    left = time_left(ownership.expires, now)
    if left is not None:
        detail["expires"] = left
    if ownership.commit:
        detail["commit"] = ownership.commit + ("-dirty" if ownership.dirty else "")
    if ownership.source:
        detail["source"] = ownership.source
    return detail
