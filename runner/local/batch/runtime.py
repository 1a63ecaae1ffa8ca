"""The emulator's own bookkeeping of each Batch entity, kept beside its wire document.

A pool, job, node or task is served as its document alone; what the emulator needs to run
it (timers, counters, processes, stop requests) lives in one of these records, keyed like
the document, and is never sent. Both are stored together, one row per entity, as
``{"doc": ..., "runtime": ...}``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, TypeVar

Doc = dict[str, Any]


@dataclass
class AutoPool:
    """How long the pool a job made for itself lives (``poolLifetimeOption``)."""

    lifetime: str | None
    keep_alive: bool


@dataclass
class PoolRuntime:
    # Nodes made so far: a node that left never lends its id to a new one.
    node_seq: int = 0
    # When a resize (or the first allocation) settles, and when a deleted pool is gone:
    # the allocation and delete progressions, or an injected lro_latency fault.
    steady_at: float | None = None
    gone_at: float | None = None
    # Nodes a removenodes call chose to leave first, and what happens to their tasks.
    remove: list[str] | None = None
    deallocation: str | None = None
    auto_pool: AutoPool | None = None
    # Its folders are being removed; not stored, so an interrupted removal starts again.
    removing: bool = False

    def to_json(self) -> Doc:
        auto = self.auto_pool
        return {
            "nodeSeq": self.node_seq,
            "steadyAt": self.steady_at,
            "goneAt": self.gone_at,
            "remove": list(self.remove) if self.remove is not None else None,
            "deallocation": self.deallocation,
            "autoPool": None
            if auto is None
            else {"lifetime": auto.lifetime, "keepAlive": auto.keep_alive},
        }

    @classmethod
    def from_json(cls, data: Doc) -> PoolRuntime:
        auto = data.get("autoPool")
        return cls(
            node_seq=int(data.get("nodeSeq") or 0),
            steady_at=data.get("steadyAt"),
            gone_at=data.get("goneAt"),
            remove=data.get("remove"),
            deallocation=data.get("deallocation"),
            auto_pool=None
            if not auto
            else AutoPool(auto.get("lifetime"), bool(auto.get("keepAlive"))),
        )


@dataclass
class JobRuntime:
    # When the job began counting its maxWallClockTime, and when a deleted job is gone.
    started: float | None = None
    gone_at: float | None = None
    removing: bool = False  # as for pools, not stored

    def to_json(self) -> Doc:
        return {"started": self.started, "goneAt": self.gone_at}

    @classmethod
    def from_json(cls, data: Doc) -> JobRuntime:
        return cls(started=data.get("started"), gone_at=data.get("goneAt"))


@dataclass
class NodeRuntime:
    # The start task's process (``nodes.process.identity``), so a restart after a crash
    # can stop what the old emulator left running.
    process: str | None = None
    # Users made on the node, by lower-cased name: remembered, but no account is made.
    users: dict[str, Doc] = field(default_factory=dict)

    def to_json(self) -> Doc:
        return {"process": self.process, "users": copy.deepcopy(self.users)}

    @classmethod
    def from_json(cls, data: Doc) -> NodeRuntime:
        return cls(process=data.get("process"), users=dict(data.get("users") or {}))


@dataclass
class TaskRuntime:
    # Order of addition, kept across restarts (tasks are queued again in this order).
    seq: int = 0
    # The attempt's process, as for a node's start task.
    process: str | None = None
    # Why the task was asked to stop while it had no process yet (it was fetching files).
    stop: str | None = None

    def to_json(self) -> Doc:
        return {"seq": self.seq, "process": self.process, "stop": self.stop}

    @classmethod
    def from_json(cls, data: Doc) -> TaskRuntime:
        return cls(
            seq=int(data.get("seq") or 0), process=data.get("process"), stop=data.get("stop")
        )


# How a state folder of an emulator that kept these fields in the documents names them.
_LEGACY: dict[type, dict[str, str]] = {
    PoolRuntime: {
        "_nodeSeq": "nodeSeq",
        "_steady_at": "steadyAt",
        "_gone_at": "goneAt",
        "_remove": "remove",
        "_deallocation": "deallocation",
        "_autoPool": "autoPool",
        "_removing": "",
    },
    JobRuntime: {"_started": "started", "_gone_at": "goneAt", "_removing": ""},
    NodeRuntime: {"_process": "process", "_users": "users"},
    TaskRuntime: {"_seq": "seq", "_process": "process", "_stop": "stop"},
}


def stored(doc: Doc, runtime: PoolRuntime | JobRuntime | NodeRuntime | TaskRuntime) -> Doc:
    """The row of an entity: a copy of its document, so the flusher never serialises one
    another thread is changing, and its record."""
    return {"doc": copy.deepcopy(doc), "runtime": runtime.to_json()}


Record = TypeVar("Record", PoolRuntime, JobRuntime, NodeRuntime, TaskRuntime)


def loaded(row: Doc, kind: type[Record]) -> tuple[Doc, Record]:
    """The document and record of a stored row; a row of an older emulator (the document
    alone, the record's fields in it) is split the same way."""
    if "doc" in row and "runtime" in row:
        return row["doc"], kind.from_json(row["runtime"] or {})
    fields = {}
    for old, new in _LEGACY[kind].items():
        value = row.pop(old, None)
        if new and value is not None:
            fields[new] = value
    return row, kind.from_json(fields)
