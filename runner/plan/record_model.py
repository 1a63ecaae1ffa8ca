"""The results record's data (``plan/results_record.py`` says what it means): per task
that succeeded, its identity and the output blobs it left, kept as JSON in a blob of the
output container."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

RECORD_BLOB = "runner-results.json"
FORMAT = 1


@dataclass(frozen=True)
class RecordedOutput:
    blob: str  # ``<task id>/<name>`` in the output container
    etag: str | None
    md5: str | None  # base64 Content-MD5 of the content, when Blob or collect gave one

    def matches(self, md5: str | None, etag: str | None) -> bool:
        """A blob listed with ``md5`` and ``etag`` is still the one the task left."""
        if self.md5 is not None and md5 is not None:
            return self.md5 == md5
        return self.etag is not None and self.etag == etag


@dataclass(frozen=True)
class RecordedTask:
    identity: str
    finished: str  # when the run that recorded it wrote the record (ISO 8601)
    outputs: tuple[RecordedOutput, ...] = ()


@dataclass(frozen=True)
class ResultsRecord:
    tasks: dict[str, RecordedTask] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "tasks": {
                    task_id: {
                        "identity": t.identity,
                        "finished": t.finished,
                        "outputs": [
                            {"blob": o.blob, "etag": o.etag, "contentMd5": o.md5} for o in t.outputs
                        ],
                    }
                    for task_id, t in sorted(self.tasks.items())
                },
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> ResultsRecord:
        """A record that cannot be read (another format, edited by hand) counts as none:
        its tasks run again, which is never wrong."""
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                return cls()
            return cls(
                tasks={
                    task_id: RecordedTask(
                        identity=str(t["identity"]),
                        finished=str(t.get("finished", "")),
                        outputs=tuple(
                            RecordedOutput(
                                blob=str(o["blob"]), etag=o.get("etag"), md5=o.get("contentMd5")
                            )
                            for o in t.get("outputs", ())
                        ),
                    )
                    for task_id, t in data.get("tasks", {}).items()
                }
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls()
