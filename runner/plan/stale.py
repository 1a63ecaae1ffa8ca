"""What made a saved plan stale, when it is local files: ``apply --plan`` names each input,
start task or rows file whose content changed since ``plan -out`` read it, and those that
appeared or went away, rather than only saying that the plan differs.

Pure: both plans are data. A blob's change holds the local file it comes from
(``after.source``) and that file's Content-MD5 when the plan was made; a job's change the
rows file its sweep's tasks come from (``after.forEachRows``), likewise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.plan.model import Address, Plan


def local_files(plan: Mapping[str, Any]) -> dict[str, str | None]:
    """Local file -> its Content-MD5, over the blob changes of a plan's JSON form."""
    files: dict[str, str | None] = {}
    for change in plan.get("changes") or ():
        after = change.get("after") or {}
        rows = after.get("forEachRows")
        if isinstance(rows, dict) and isinstance(rows.get("source"), str):
            files[rows["source"]] = rows.get("contentMd5")
        if Address.parse(str(change.get("address", ""))).resource_kind != "Blob":
            continue
        if isinstance(after.get("source"), str):
            files[after["source"]] = after.get("contentMd5")
    return files


def changed_files(saved: Mapping[str, Any], fresh: Plan) -> list[str]:
    """Each local file that differs between the saved plan and a fresh one, with how."""
    before, now = local_files(saved), local_files(fresh.model_dump(mode="json"))
    out = [
        f"{path} (content changed)" for path in before if path in now and before[path] != now[path]
    ]
    out += [f"{path} (new)" for path in now if path not in before]
    out += [f"{path} (gone)" for path in before if path not in now]
    return out
