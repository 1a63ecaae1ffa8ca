"""What a workflow's steps hand on and what they leave as their record, as data.

A step's outputs are blobs (``Handed``): a container group's are what it wrote below
``steps/<step>/`` in the workflow's container, a Batch step's are its tasks' outputs in
its output container. A container group step leaves a ``StepRecord`` beside them (a Batch
step's record is its results record): the hash of its definition, the content of every
input and what it wrote. A step whose definition and inputs are the recorded ones and
whose outputs are all still there, unchanged, is skipped. Pure: the engine reads and
writes the blobs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase

from runner.plan.batch_observed import ObservedBlob

FORMAT = 1
STEPS_PREFIX = "steps"
INPUTS_PREFIX = "inputs"
RECORDS_PREFIX = "records"


@dataclass(frozen=True)
class Handed:
    """One file a step hands on: ``name`` is what the next step sees (a file name, or a
    path below the step's folder), the blob is where it is."""

    name: str
    container: str
    blob: str
    md5: str | None
    etag: str | None = None
    size: int = 0

    @property
    def version(self) -> str:
        return self.md5 or f"etag:{self.etag}"


def outputs_folder(step: str) -> str:
    return f"{STEPS_PREFIX}/{step}/"


def inputs_folder(step: str, name: str) -> str:
    return f"{INPUTS_PREFIX}/{step}/{name}/"


def record_blob(step: str) -> str:
    return f"{RECORDS_PREFIX}/{step}.json"


def declared(outputs: Mapping[str, str], files: Sequence[Handed]) -> dict[str, list[Handed]]:
    """A step's outputs by name: the files each declared glob matches."""
    return {name: [f for f in files if fnmatchcase(f.name, glob)] for name, glob in outputs.items()}


def written(container: str, step: str, listing: Mapping[str, ObservedBlob]) -> list[Handed]:
    """What a container group step wrote below its folder, by name."""
    prefix = outputs_folder(step)
    return [
        Handed(name=n[len(prefix) :], container=container, blob=n, md5=b.md5, etag=b.etag)
        for n, b in sorted(listing.items())
        if n.startswith(prefix) and len(n) > len(prefix)
    ]


def input_digest(inputs: Mapping[str, Sequence[Handed]]) -> dict[str, str]:
    """What a step's inputs are, by content: ``<input>/<name>`` -> version."""
    return {f"{n}/{f.name}": f.version for n, files in inputs.items() for f in files}


@dataclass(frozen=True)
class StepRecord:
    definition: str
    inputs: dict[str, str]
    outputs: tuple[Handed, ...]
    finished: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "definition": self.definition,
                "inputs": self.inputs,
                "outputs": [asdict(o) for o in self.outputs],
                "finished": self.finished,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> StepRecord | None:
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                return None
            return cls(
                definition=str(data["definition"]),
                inputs={str(k): str(v) for k, v in data["inputs"].items()},
                outputs=tuple(Handed(**o) for o in data["outputs"]),
                finished=str(data.get("finished", "")),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


def unchanged(
    record: StepRecord | None,
    definition: str,
    inputs: Mapping[str, str],
    listing: Mapping[str, ObservedBlob],
) -> str | None:
    """Why a container group step need not run (None: it must): its record's definition
    and inputs are today's and every output it recorded is still there, unchanged."""
    if record is None or record.definition != definition or record.inputs != dict(inputs):
        return None
    for o in record.outputs:
        seen = listing.get(o.blob)
        if seen is None or Handed(o.name, o.container, o.blob, seen.md5, seen.etag).version != (
            o.version
        ):
            return None
    return f"unchanged since it ran ({record.finished}): same definition and inputs"
