"""A small sqlite-backed JSON document store shared by the emulator's APIs.

State lives on disk so resources outlive one CLI call and a restart of the emulator.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

Doc = dict[str, Any]


class Store:
    """Documents keyed by ``(kind, key)``. Thread-safe: one connection, one lock."""

    def __init__(self, path: Path | str) -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS docs ("
            " kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL,"
            " PRIMARY KEY (kind, key))"
        )

    def get(self, kind: str, key: str) -> Doc | None:
        with self._lock:
            row = self._db.execute(
                "SELECT doc FROM docs WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, key: str, doc: Doc) -> None:
        text = json.dumps(doc, separators=(",", ":"))
        with self._lock:
            self._db.execute(
                "INSERT INTO docs (kind, key, doc) VALUES (?, ?, ?)"
                " ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc",
                (kind, key, text),
            )

    def delete(self, kind: str, key: str) -> bool:
        with self._lock:
            cur = self._db.execute("DELETE FROM docs WHERE kind = ? AND key = ?", (kind, key))
        return cur.rowcount > 0

    def list(self, kind: str, prefix: str = "") -> builtins.list[Doc]:
        """Documents, in key order, whose key starts with ``prefix``."""
        return [doc for _, doc in self.items(kind, prefix)]

    def items(self, kind: str, prefix: str = "") -> builtins.list[tuple[str, Doc]]:
        """Pairs of key and document, in key order, whose key starts with ``prefix``."""
        # The upper bound keeps the prefix match on the primary key index (no LIKE escaping).
        upper = prefix + "\U0010ffff"
        with self._lock:
            rows = self._db.execute(
                "SELECT key, doc FROM docs WHERE kind = ? AND key >= ? AND key < ? ORDER BY key",
                (kind, prefix, upper),
            ).fetchall()
        return [(key, json.loads(doc)) for key, doc in rows]

    def update(self, kind: str, key: str, change: Any) -> Doc | None:
        """Reads, changes (``change(doc) -> doc``) and writes one document atomically."""
        with self._lock:
            doc = self.get(kind, key)
            if doc is None:
                return None
            new = change(doc)
            self.put(kind, key, new)
            return new  # type: ignore[no-any-return]

    def close(self) -> None:
        with self._lock:
            self._db.close()
