"""What ``status`` and ``gc`` say of a stamp, and the stamp of a resource group that
several specs share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from runner.plan.provenance import Stamp, merged, time_left

NOW = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)


def test_time_left_and_time_since_expiry_read_in_two_units_at_most() -> None:
    assert time_left(NOW + timedelta(hours=1, minutes=5, seconds=9), NOW) == "1h05m left"
    assert time_left(NOW + timedelta(seconds=12), NOW) == "12s left"
    assert time_left(NOW - timedelta(days=2, hours=3), NOW) == "expired 2d03h ago"
    assert time_left(NOW, NOW) == "expired 0s ago"
    assert time_left(None, NOW) is None


def test_shared_resource_group_expires_with_the_last_spec_and_never_if_one_never_does() -> None:
    early = Stamp(commit="a" * 40, source="specs/a.yaml", expires=NOW)
    late = Stamp(commit="a" * 40, source="specs/b.yaml", expires=NOW + timedelta(hours=1))
    both = merged([early, late])
    assert both.expires == NOW + timedelta(hours=1)
    assert both.commit == "a" * 40 and both.source is None  # the specs' paths differ
    assert merged([early, Stamp(commit="a" * 40)]).expires is None
    assert merged([]) == Stamp()
