"""A workflow step's record and hand-offs as data: a container group step is skipped only
when its definition, its inputs' contents and every output it recorded are unchanged;
outputs are named by the globs the step declares. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from runner.engine.workflow import _common_folder, _group_expiry
from runner.plan.batch_observed import ObservedBlob
from runner.plan.workflow import (
    Handed,
    StepRecord,
    declared,
    input_digest,
    outputs_folder,
    unchanged,
    written,
)

C = "wf"


def blob(name: str, md5: str | None = "m", etag: str = "e") -> ObservedBlob:
    return ObservedBlob(container=C, name=name, md5=md5, etag=etag)


def record() -> StepRecord:
    out = Handed("a.txt", C, "steps/lower/a.txt", "m", "e")
    return StepRecord(definition="d", inputs={"texts/a.txt": "i"}, outputs=(out,), finished="t")


def test_a_step_is_unchanged_only_with_the_same_definition_inputs_and_outputs() -> None:
    listing = {"steps/lower/a.txt": blob("steps/lower/a.txt")}
    assert unchanged(record(), "d", {"texts/a.txt": "i"}, listing)
    assert unchanged(None, "d", {"texts/a.txt": "i"}, listing) is None
    assert unchanged(record(), "other", {"texts/a.txt": "i"}, listing) is None
    assert unchanged(record(), "d", {"texts/a.txt": "changed"}, listing) is None
    assert unchanged(record(), "d", {"texts/a.txt": "i", "texts/b.txt": "i"}, listing) is None
    assert unchanged(record(), "d", {"texts/a.txt": "i"}, {}) is None
    rewritten = {"steps/lower/a.txt": blob("steps/lower/a.txt", md5="other")}
    assert unchanged(record(), "d", {"texts/a.txt": "i"}, rewritten) is None


def test_what_a_group_wrote_is_named_below_its_folder_and_matched_by_its_globs() -> None:
    listing = {
        f"{outputs_folder('lower')}a.txt": blob("steps/lower/a.txt"),
        f"{outputs_folder('lower')}notes.log": blob("steps/lower/notes.log"),
        "steps/other/b.txt": blob("steps/other/b.txt"),
    }
    files = written(C, "lower", listing)
    assert [f.name for f in files] == ["a.txt", "notes.log"]
    assert {k: [f.name for f in v] for k, v in declared({"texts": "*.txt"}, files).items()} == {
        "texts": ["a.txt"]
    }
    assert input_digest({"texts": files[:1]}) == {"texts/a.txt": "m"}
    # Without a Content-MD5, the ETag stands for the content.
    no_md5 = Handed("x", C, "x", None, "e1")
    assert input_digest({"i": [no_md5]}) == {"i/x": "etag:e1"}


def test_a_record_reads_back_as_written_and_a_bad_one_as_none() -> None:
    assert StepRecord.from_json(record().to_json()) == record()
    assert StepRecord.from_json("{") is None
    assert StepRecord.from_json('{"format": 99}') is None


def test_hand_off_urls_name_the_common_folder_and_expire_the_same_within_the_hour() -> None:
    assert _common_folder(["steps/lower/a.txt", "steps/lower/b.txt"]) == "steps/lower/"
    assert _common_folder(["t1/a.txt", "t2/b.txt"]) == ""
    start = datetime(2026, 12, 3, 10, 5, tzinfo=UTC)
    later = datetime(2026, 12, 3, 10, 55, tzinfo=UTC)
    assert _group_expiry(start) == _group_expiry(later) == datetime(2026, 12, 3, 12, tzinfo=UTC)
