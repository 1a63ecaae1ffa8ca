"""Provenance and expiry tags: written from a ``Stamp``, parsed into ``Ownership``, and
never taken for user tags (so the planner never sees them)."""

from __future__ import annotations

from datetime import UTC, datetime

from runner.backends import tags
from runner.backends.batch_metadata import blob_metadata, parse_owner
from runner.plan.provenance import Stamp

SHA = "0123456789abcdef0123456789abcdef01234567"
WHEN = datetime(2026, 12, 3, 13, 5, 7, tzinfo=UTC)


def test_stamp_tags_round_trip_into_ownership_not_user_tags() -> None:
    stamp = Stamp(commit=SHA, dirty=True, source="specs/web app.yaml", expires=WHEN)
    written = tags.resource_tags({"team": "blue"}, spec="web", workspace="ws", stamp=stamp)
    assert written["runner-commit"] == SHA + "-dirty"
    assert written["runner-expires"] == "2026-12-03T13:05:07Z"
    assert written["runner-source"] == "specs/web%20app.yaml"
    parsed = tags.parse(written)
    assert parsed.user == {"team": "blue"}
    o = parsed.ownership
    assert (o.commit, o.dirty, o.source, o.expires) == (SHA, True, "specs/web app.yaml", WHEN)


def test_user_tags_cannot_forge_an_expiry() -> None:
    written = tags.resource_tags(
        {"runner-expires": "2000-01-01T00:00:00Z"}, spec="web", workspace="ws"
    )
    assert "runner-expires" not in written
    assert tags.parse(written).ownership.expires is None


def test_an_expiry_that_does_not_parse_is_no_expiry() -> None:
    parsed = tags.parse({"managed-by": "runner", "runner-expires": "soon"})
    assert parsed.ownership.expires is None
    assert not parsed.ownership.expired(WHEN)


def test_blob_metadata_carries_the_stamp_with_underscores() -> None:
    metadata = blob_metadata("topwords", "ws", stamp=Stamp(commit=SHA, expires=WHEN))
    assert metadata["runner_commit"] == SHA
    assert metadata["runner_expires"] == "2026-12-03T13:05:07Z"
    assert parse_owner(metadata).expires == WHEN


def test_no_stamp_writes_no_provenance_tags() -> None:
    written = tags.ownership_tags(spec="web", workspace="ws", stamp=Stamp())
    assert set(written) == {"managed-by", "runner-spec", "runner-workspace"}
