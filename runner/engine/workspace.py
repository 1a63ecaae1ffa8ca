"""The workspace name: what ``runner-workspace`` tags say, and what a lock is keyed by."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def git_toplevel(cwd: Path | None = None) -> Path | None:
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=start,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def workspace_root(cwd: Path | None = None) -> Path:
    """The git work tree holding ``cwd``, else ``cwd`` itself."""
    return git_toplevel(cwd) or (cwd or Path.cwd()).resolve()


def workspace_name(override: str | None = None, cwd: Path | None = None) -> str:
    """``--workspace``, else the git repository's folder name, else the cwd's name. Made
    safe for an ARM tag value."""
    name = override or workspace_root(cwd).name or "default"
    return _UNSAFE.sub("-", name).strip("-")[:128] or "default"
