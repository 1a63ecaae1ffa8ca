"""``runner gc``'s planner: only runner-made resources past their expiry are deleted, in an
order that deletes what holds or runs nothing first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from runner.plan.action import Action
from runner.plan.gc import Found, gc_plan
from runner.plan.model import Address
from runner.plan.ownership import Ownership

NOW = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
PAST = NOW - timedelta(minutes=5)
FUTURE = NOW + timedelta(minutes=5)


def runner_made(expires: datetime | None, workspace: str = "ws-a") -> Ownership:
    return Ownership(managed_by="runner", spec="s", workspace=workspace, expires=expires)


def group(name: str, ownership: Ownership, rg: str = "rg") -> Found:
    return Found(
        address=Address.container_group(rg, name),
        ownership=ownership,
        resource_id=f"/subscriptions/sub/resourceGroups/{rg}/providers/"
        f"Microsoft.ContainerInstance/containerGroups/{name}",
    )


def actions(found: list[Found]) -> dict[str, Action]:
    return {str(c.address): c.action for c in gc_plan(found, NOW).changes}


def test_gc_deletes_only_what_runner_made_and_let_expire() -> None:
    found = [
        group("untagged", Ownership()),
        group("other-tool", Ownership(managed_by="terraform", expires=PAST)),
        group("no-expiry", runner_made(None)),
        group("not-yet", runner_made(FUTURE)),
        group("expired", runner_made(PAST)),
        group("expired-elsewhere", runner_made(PAST, workspace="ws-b")),
    ]
    assert actions(found) == {
        "ContainerGroup/rg/expired": Action.DELETE,
        "ContainerGroup/rg/expired-elsewhere": Action.DELETE,
    }


def test_gc_plan_says_how_long_ago_it_expired_and_where_it_came_from() -> None:
    o = runner_made(PAST).model_copy(update={"source": "specs/web.yaml", "commit": "a" * 40})
    (change,) = gc_plan([group("web", o)], NOW).changes
    assert change.reason == (
        "expired 5m00s ago, made in workspace ws-a from specs/web.yaml at aaaaaaa"
    )


def test_a_resource_already_being_deleted_is_left_to_finish() -> None:
    going = Found(
        address=Address.batch("s", "pool", "p"), ownership=runner_made(PAST), state="deleting"
    )
    assert actions([going]) == {}


def test_expired_resource_group_goes_after_its_groups_when_nothing_else_is_in_it() -> None:
    inside = group("web", runner_made(PAST))
    rg = Found(
        address=Address.resource_group("rg"),
        ownership=runner_made(PAST),
        holds=(inside.resource_id.upper(),),  # ARM ids compare without case
    )
    changes = gc_plan([rg, inside], NOW).changes
    assert [(str(c.address), c.action) for c in changes] == [
        ("ContainerGroup/rg/web", Action.DELETE),
        ("ResourceGroup/rg", Action.DELETE),
    ]
    assert changes[1].depends_on == (inside.address,)


def test_expired_resource_group_that_holds_anything_else_is_kept() -> None:
    inside = group("web", runner_made(PAST))
    keep = group("keep", runner_made(FUTURE))
    foreign = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x"
    rg = Found(
        address=Address.resource_group("rg"),
        ownership=runner_made(PAST),
        holds=(inside.resource_id, keep.resource_id, foreign),
    )
    changes = {str(c.address): c for c in gc_plan([rg, inside, keep], NOW).changes}
    assert changes["ResourceGroup/rg"].action is Action.NOOP
    assert changes["ResourceGroup/rg"].reason.endswith("kept: still holds keep, x")
    assert changes["ContainerGroup/rg/web"].action is Action.DELETE
    assert "ContainerGroup/rg/keep" not in changes


def test_expired_pool_goes_after_the_expired_jobs() -> None:
    pool = Found(address=Address.batch("s", "pool", "p"), ownership=runner_made(PAST))
    job = Found(address=Address.batch("s", "job", "j"), ownership=runner_made(PAST))
    box = Found(address=Address.batch("s", "container", "c"), ownership=runner_made(PAST))
    changes = gc_plan([pool, box, job], NOW).changes
    assert [str(c.address) for c in changes] == [
        "BatchJob/s/job/j",
        "BatchJob/s/pool/p",
        "BatchJob/s/container/c",
    ]
    assert changes[1].depends_on == (job.address,)
