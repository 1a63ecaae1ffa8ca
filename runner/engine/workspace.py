"""The workspace name: what ``runner-workspace`` tags say, and what a lock is keyed by.

``--workspace NAME`` names it. Otherwise it is the folder runner runs in, told apart from
every other folder: the repository holding it (its git remote URL, normalised so that the
https and ssh forms of one remote agree and credentials never count) plus the folder's path
inside the repository; outside git, or in a repository with no remote, the folder's
absolute path. Every command, with specs or without, derives it from that folder alone,
as Terraform's working directory does: ``runner destroy`` with no spec, run where
``runner apply specs/x.yaml`` ran, finds what that apply made, while a second repository
checked out under the same folder name, or another project's folder in the same
repository, never shares it.

The name reads ``<repository name>[-<path in it>]-<hash>``: readable in plans and
``status``, short, and safe as an ARM tag value, a Batch metadata value and a file name.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path, PurePosixPath

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# ``[user@]host:path``, git's scp-like syntax; a single letter before the colon is a
# Windows drive, not a host.
_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]{2,}):(?P<path>.*)$")
HASH_CHARS = 10  # 40 bits: unrelated folders never meet in practice
READABLE_CHARS = 40


def git_toplevel(cwd: Path | None = None) -> Path | None:
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    out = _git(start, "rev-parse", "--show-toplevel")
    return Path(out) if out else None


def workspace_root(cwd: Path | None = None) -> Path:
    """The git work tree holding ``cwd``, else ``cwd`` itself."""
    return git_toplevel(cwd) or (cwd or Path.cwd()).resolve()


def git_remote(root: Path) -> str | None:
    """The URL of the repository's ``origin``, else of its first remote by name."""
    out = _git(root, "config", "--get-regexp", r"^remote\..*\.url$")
    if not out:
        return None
    urls: dict[str, str] = {}
    for line in out.splitlines():
        key, _, url = line.partition(" ")
        urls[key[len("remote.") : -len(".url")]] = url.strip()
    if "origin" in urls:
        return urls["origin"]
    return urls[min(urls)] if urls else None


def normalise_remote(url: str, root: Path | None = None) -> str:
    """``host/path`` of a git remote: scheme, credentials, port and ``.git`` dropped, the
    host lower-cased. ``https://user:token@GitHub.com/org/infra.git``,
    ``ssh://git@github.com:22/org/infra`` and ``git@github.com:org/infra.git`` all give
    ``github.com/org/infra``. A remote that is a path on this machine gives its absolute
    path (resolved from ``root`` when relative)."""
    url = url.strip()
    scheme = _SCHEME.match(url)
    scp = None if scheme else _SCP.match(url)
    if scheme and scheme.group(1).lower() != "file":
        authority, _, path = url[scheme.end() :].partition("/")
        host = authority.rpartition("@")[2]
        host = host.rpartition(":")[0] if re.search(r":\d*$", host) else host
    elif scp:
        host, path = scp.group("host"), scp.group("path")
    else:
        local = url[scheme.end() :] if scheme else url
        resolved = (root or Path.cwd()) / local if not Path(local).is_absolute() else Path(local)
        host, path = "", str(resolved.resolve())
    path = path.strip().strip("/")
    path = path.removesuffix(".git").rstrip("/")
    return f"{host.lower()}/{path}" if host else f"/{path}"


def workspace_identity(cwd: Path | None = None) -> tuple[str, str]:
    """``(identity, readable)``: what the name's hash covers, and the words it starts with."""
    here = (cwd or Path.cwd()).resolve()
    root = git_toplevel(here)
    remote = git_remote(root) if root is not None else None
    if root is None or remote is None:
        return f"path:{here}", here.name
    inside = PurePosixPath(*here.relative_to(root.resolve()).parts)
    where = normalise_remote(remote, root)
    name = PurePosixPath(where).name or root.name
    readable = "-".join([name, *inside.parts])
    return f"git:{where}\n{inside}", readable


def workspace_name(override: str | None = None, cwd: Path | None = None) -> str:
    """``--workspace`` (made safe for an ARM tag value), else ``<readable>-<hash>`` of the
    folder's identity (see the module's docstring)."""
    if override:
        return _safe(override)[:128] or "default"
    identity, readable = workspace_identity(cwd)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:HASH_CHARS]
    words = _safe(readable)[:READABLE_CHARS].rstrip("-.") or "workspace"
    return f"{words}-{digest}"


def _safe(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-")


def _git(cwd: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    return text if out.returncode == 0 and text else None
