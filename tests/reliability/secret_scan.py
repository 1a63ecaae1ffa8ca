"""A scanner for secrets in whatever a run produced: known values and SAS signatures.

``SecretScanner({"batch key": key, ...})`` looks for each known value as written, URL
encoded and JSON escaped, and for any SAS signature (``sig=...``), whose value the test
cannot know since the run makes it. Findings name the secret and where it was seen,
never the value, so a failing assertion does not print the secret either. ``count`` is
what the chaos suite prints as "secrets found".

Not named ``secrets.py``: the test folder is put on ``sys.path`` and would shadow the
standard library's ``secrets`` module.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

# A SAS signature in a URL, raw or URL-encoded once (a SAS inside a query value).
SAS_SIGNATURE = re.compile(r"(?:[?&]|%26|%3F)sig(?:=|%3D)[A-Za-z0-9%+/=_-]{8,}", re.IGNORECASE)
# Files larger than this are read only in part: logs and outputs of tests are small.
MAX_SCAN_BYTES = 20 * 1024 * 1024


def secrets_found() -> tuple[int, int]:
    """``(findings, places scanned)`` over every scanner made in this test run."""
    return sum(s.count for s in SCANNERS), sum(len(s.scanned) for s in SCANNERS)


@dataclass(frozen=True)
class Finding:
    secret: str  # the secret's name, e.g. "batch account key", or "SAS signature"
    where: str

    def __str__(self) -> str:
        return f"{self.secret} in {self.where}"


def _forms(value: str) -> set[str]:
    """The ways a value may be written out: as is, URL-encoded, JSON-escaped."""
    forms = {value, quote(value, safe=""), json.dumps(value)[1:-1]}
    return {f for f in forms if f}


@dataclass
class SecretScanner:
    secrets: Mapping[str, str] = field(repr=False)
    findings: list[Finding] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list, repr=False)
    # Counted in the run's figures (``secrets_found``); the scanner's own tests plant
    # secrets on purpose and pass False.
    record: bool = field(default=True, repr=False)

    def __post_init__(self) -> None:
        short = [name for name, value in self.secrets.items() if len(value) < 8]
        if short:
            raise ValueError(f"secrets too short to scan for without false hits: {short}")
        self._forms = {name: _forms(value) for name, value in self.secrets.items()}
        if self.record:
            SCANNERS.append(self)

    @property
    def count(self) -> int:
        return len(self.findings)

    def scan_text(self, text: str, where: str) -> list[Finding]:
        self.scanned.append(where)
        found = [
            Finding(name, where)
            for name, forms in self._forms.items()
            if any(form in text for form in forms)
        ]
        if SAS_SIGNATURE.search(text):
            found.append(Finding("SAS signature", where))
        self.findings += found
        return found

    def scan_file(self, path: Path, where: str | None = None) -> list[Finding]:
        with path.open("rb") as f:
            data = f.read(MAX_SCAN_BYTES)
        return self.scan_text(data.decode("utf-8", errors="replace"), where or str(path))

    def scan_tree(
        self, root: Path, *, skip: Iterable[str] = (), suffixes: Iterable[str] | None = None
    ) -> list[Finding]:
        """Every regular file under ``root`` (symlinks not followed) but those whose path
        relative to ``root`` starts with one of ``skip``; only ``suffixes`` if given."""
        skipped = tuple(skip)
        wanted = tuple(suffixes) if suffixes is not None else None
        found: list[Finding] = []
        # The local target may still be removing a deleted pool's node folders: a folder
        # or file that goes while the walk runs held nothing left to leak.
        paths = [
            Path(folder) / name
            for folder, _, names in os.walk(root, onerror=lambda _err: None)
            for name in names
        ]
        for path in sorted(paths):
            rel = path.relative_to(root).as_posix()
            if path.is_symlink() or not path.is_file() or rel.startswith(skipped):
                continue
            if wanted is not None and not path.name.endswith(wanted):
                continue
            try:
                found += self.scan_file(path)
            except FileNotFoundError:
                continue
        return found

    def scan_object(self, value: object, where: str) -> list[Finding]:
        """Anything JSON can hold (read-back tags, metadata, settings), as its JSON text."""
        return self.scan_text(json.dumps(value, default=str, ensure_ascii=False), where)

    def report(self) -> str:
        return "\n".join(str(f) for f in self.findings) or "no secret found"


SCANNERS: list[SecretScanner] = []
