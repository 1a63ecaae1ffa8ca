"""Applying container group changes: send, wait, run, collect, tear down.

A run-to-completion group (restart policy ``Never`` or ``OnFailure``) is waited for until
it finishes; each container's logs and exit code land in the collect folder; then the
spec's ``teardown`` policy runs. On cancel (Ctrl-C), timeout or failure the same teardown
runs with a wait that the cancel cannot cut short, and the outcome says what it removed
and what it left.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.backends import lro
from runner.backends.aci import ContainerGroups, container_groups
from runner.backends.resources import ResourceGroups, resource_groups
from runner.backends.target import Target
from runner.engine import collect
from runner.engine.events import Emit, StepProgress
from runner.engine.executor import StepOutcome
from runner.engine.poll import Poll, poll_until
from runner.engine.retry import Clock, Deadline, RetryPolicy, call_with_retry
from runner.errors import Cancelled, PermanentError, RunnerError
from runner.plan.action import Action
from runner.plan.canonical import FingerprintKey
from runner.plan.model import Address, Change
from runner.plan.observed import ObservedContainerGroup
from runner.plan.provenance import Stamp
from runner.spec.models import ContainerGroup

INVALID_UPDATE = "InvalidContainerGroupUpdate"
OPERATION_TIMEOUT = 900.0
TEARDOWN_TIMEOUT = 300.0


@dataclass
class AciApply:
    target: Target
    specs: dict[Address, ContainerGroup]  # by folded address
    workspace: str
    emit: Emit
    clock: Clock
    deadline: float  # absolute clock time; runs not finished by then time out
    cwd: Path = field(default_factory=Path.cwd)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    key: FingerprintKey | None = None  # the plan's, for the fingerprint tags sent
    # Provenance and expiry written on what is sent, by folded address (groups and
    # resource groups); none on destroy.
    stamps: dict[Address, Stamp] = field(default_factory=dict)

    # --- dispatch -----------------------------------------------------------------

    def __call__(self, change: Change) -> StepOutcome:
        if change.kind == "ResourceGroup":
            return self._resource_group(change)
        return self._group(change)

    def follows(self, change: Change) -> bool:
        """An unchanged run-to-completion group is not finished (the plan starts finished
        ones again): its run is still going, and this apply waits for it."""
        spec = self.specs.get(change.address.folded())
        return change.kind == "ContainerGroup" and spec is not None and spec.runs_to_completion

    def _subscription(self, change: Change, spec: ContainerGroup | None) -> str:
        return change.subscription or self.target.subscription_for(
            spec.subscription if spec else None
        )

    def _retry(self, fn: Any, change: Change, what: str, clock: Clock | None = None) -> Any:
        return call_with_retry(
            fn,
            address=str(change.address),
            what=what,
            emit=self.emit,
            policy=self.policy,
            clock=clock or self.clock,
        )

    def _progress(self, change: Change, message: str) -> None:
        self.emit(StepProgress(address=str(change.address), message=message))

    # --- resource groups ------------------------------------------------------------

    def _resource_group(self, change: Change) -> StepOutcome:
        name = change.address.name
        rgs = resource_groups(self.target, self._subscription(change, None))
        if change.action is Action.CREATE:
            location = (change.after or {}).get("location") or "westeurope"
            self._retry(
                lambda: rgs.create(
                    name,
                    location,
                    workspace=self.workspace,
                    stamp=self.stamps.get(change.address.folded()),
                ),
                change,
                "create resource group",
            )
            return StepOutcome(message="created", counts={"created": 1})
        if change.action is Action.DELETE:
            op = self._retry(lambda: rgs.begin_delete(name), change, "delete")
            self._wait_operation(rgs, op, change, "delete resource group", self.clock)
            removed = [str(change.address)]
            return StepOutcome(message="deleted", removed=removed, counts={"deleted": 1})
        raise PermanentError(f"{change.action} is not an action for a resource group")

    # --- container groups -------------------------------------------------------------

    def _group(self, change: Change) -> StepOutcome:
        rg, name = change.address.scope, change.address.name
        spec = self.specs.get(change.address.folded())
        groups = container_groups(self.target, self._subscription(change, spec))
        if change.action is Action.DELETE:
            self._delete(groups, rg, name, change, self.clock)
            removed = [str(change.address)]
            return StepOutcome(message="deleted", removed=removed, counts={"deleted": 1})
        assert spec is not None, f"no spec for {change.address}"
        outcome = StepOutcome()
        sent: list[str] = []  # what Azure accepted so far: put, start, deleted
        try:
            if change.action is Action.NOOP:
                # A run an earlier apply started and did not see to its end (it was killed):
                # wait for it, collect and tear down as that apply would have.
                verb = "joined"
                sent.append(verb)
            else:
                verb = self._send(groups, spec, change, sent)
            outcome.counts[verb] = 1
            outcome.message = verb
            if spec.runs_to_completion and verb != "tagged":
                self._run(groups, spec, change, outcome)
        except RunnerError as exc:  # cancel and timeouts included
            outcome.ok = False
            outcome.status = "cancelled" if isinstance(exc, Cancelled) else "failed"
            outcome.message = str(exc)
        if {"put", "start", "joined"} & set(sent):
            self._teardown(groups, spec, change, outcome)
        elif "deleted" in sent:
            # Stopped between the delete and the create of a replace: the old group is gone.
            outcome.removed.append(str(change.address))
        return outcome

    def _send(
        self, groups: ContainerGroups, spec: ContainerGroup, change: Change, sent: list[str]
    ) -> str:
        rg, name = spec.resource_group, spec.name
        if change.action is Action.CREATE:
            if change.waits_for_delete:
                self._progress(change, "waiting for the previous delete to finish")
                self._wait_gone(groups, rg, name, change, self.clock)
            self._put(groups, spec, change, sent)
            return "created"
        if change.action is Action.UPDATE:
            if change.tags_only:
                self._retry(
                    lambda: groups.patch_tags(
                        spec,
                        workspace=self.workspace,
                        key=self.key,
                        stamp=self.stamps.get(change.address.folded()),
                    ),
                    change,
                    "update tags",
                )
                return "tagged"
            try:
                self._put(groups, spec, change, sent)
                return "updated"
            except PermanentError as exc:
                if exc.code != INVALID_UPDATE:
                    raise
                self._progress(
                    change,
                    f"Azure refused the update in place ({INVALID_UPDATE}); replacing it: "
                    "delete, then create",
                )
        elif change.action is not Action.REPLACE:
            if change.action is Action.START:
                op = self._retry(lambda: groups.begin_start(rg, name), change, "start")
                sent.append("start")
                self._wait_operation(groups, op, change, "start", self.clock)
                return "started"
            raise PermanentError(f"{change.action} is not an action for a container group")
        self._delete(groups, rg, name, change, self.clock)
        sent.append("deleted")
        self._put(groups, spec, change, sent)
        return "replaced"

    # --- operations -------------------------------------------------------------------

    def _put(
        self, groups: ContainerGroups, spec: ContainerGroup, change: Change, sent: list[str]
    ) -> None:
        op = self._retry(
            lambda: groups.begin_put(
                spec,
                workspace=self.workspace,
                key=self.key,
                stamp=self.stamps.get(change.address.folded()),
            ),
            change,
            "send",
        )
        sent.append("put")
        self._wait_operation(groups, op, change, "provisioning", self.clock)
        if op.status_url:
            return  # the operation's own status already said Succeeded (or raised)
        group = self._retry(
            lambda: groups.read(spec.resource_group, spec.name),
            change,
            "read",
        )
        if group is not None and group.provisioning_state == "Failed":
            raise PermanentError(f"provisioning failed{_why(group)}", code="ProvisioningFailed")

    def _wait_operation(
        self,
        groups: ContainerGroups | ResourceGroups,
        op: lro.Operation,
        change: Change,
        what: str,
        clock: Clock,
    ) -> None:
        if op.done:
            return
        if op.retry_after:
            clock.sleep(min(op.retry_after, 5.0))

        def look() -> Poll[lro.OperationStatus]:
            status = groups.poll(op)
            return Poll(status.done, status, status.retry_after)

        status = poll_until(
            look,
            address=str(change.address),
            what=what,
            emit=self.emit,
            clock=clock,
            deadline=clock.now() + OPERATION_TIMEOUT,
            policy=self.policy,
        )
        if status.failed:
            raise PermanentError(
                f"{what} failed: {status.code}: {status.message}".rstrip(": "), code=status.code
            )

    def _delete(
        self, groups: ContainerGroups, rg: str, name: str, change: Change, clock: Clock
    ) -> None:
        op = call_with_retry(
            lambda: groups.begin_delete(rg, name),
            address=str(change.address),
            what="delete",
            emit=self.emit,
            policy=self.policy,
            clock=clock,
        )
        self._wait_operation(groups, op, change, "delete", clock)
        # Deletes finish asynchronously: a create of the same name must wait for the 404.
        self._wait_gone(groups, rg, name, change, clock)

    def _wait_gone(
        self, groups: ContainerGroups, rg: str, name: str, change: Change, clock: Clock
    ) -> None:
        def look() -> Poll[None]:
            return Poll(groups.read(rg, name) is None, None)

        poll_until(
            look,
            address=str(change.address),
            what="waiting for the delete",
            emit=self.emit,
            clock=clock,
            deadline=clock.now() + OPERATION_TIMEOUT,
            policy=self.policy,
        )

    # --- run, collect, teardown ---------------------------------------------------------

    def _run(
        self, groups: ContainerGroups, spec: ContainerGroup, change: Change, out: StepOutcome
    ) -> None:
        self._progress(change, "running until every container finishes")

        def look() -> Poll[ObservedContainerGroup | None]:
            g = groups.read(spec.resource_group, spec.name)
            return Poll(g is None or collect.finished(g), g)

        try:
            group = poll_until(
                look,
                address=str(change.address),
                what="run",
                emit=self.emit,
                clock=self.clock,
                deadline=self.deadline,
                policy=self.policy,
            )
        except Deadline as exc:
            raise Deadline(f"timed out waiting for the run to finish ({exc})") from exc
        if group is None:
            raise PermanentError("the group disappeared while it ran")
        failed = collect.failures(self._collect(groups, spec, group, change, out))
        if failed:
            raise PermanentError(f"run failed: {failed}", code="ContainerFailed")
        out.message = f"{out.message}; run succeeded"

    def _collect(
        self,
        groups: ContainerGroups,
        spec: ContainerGroup,
        group: ObservedContainerGroup,
        change: Change,
        out: StepOutcome,
    ) -> dict[str, int | None]:
        base = collect.collect_dir(spec, self.cwd)
        codes = collect.exit_codes(spec, group)
        if spec.collect is None or spec.collect.logs:
            for ct in spec.containers:
                text = self._retry(
                    functools.partial(groups.logs, spec.resource_group, spec.name, ct.name),
                    change,
                    f"logs of {ct.name}",
                )
                out.outputs.append(collect.safe_write(base, f"{ct.name}.log", text))
        out.outputs.append(collect.write_codes(base, codes))
        out.counts["collected"] = len(out.outputs)
        self._progress(change, f"collected into {spec.collect_dir}")
        return codes

    def _teardown(
        self, groups: ContainerGroups, spec: ContainerGroup, change: Change, out: StepOutcome
    ) -> None:
        if not collect.removes(spec, out.ok):
            if not out.ok or spec.runs_to_completion:
                out.left.append(str(change.address))
            return
        # Teardown still runs after Ctrl-C: its waits get a clock the cancel cannot stop.
        clock = Clock(now=self.clock.now, cancel=threading.Event(), rng=self.clock.rng)
        try:
            self._delete(groups, spec.resource_group, spec.name, change, clock)
        except RunnerError as exc:
            out.left.append(str(change.address))
            out.message = f"{out.message}; teardown failed: {exc}"
            return
        out.removed.append(str(change.address))
        out.counts["deleted"] = out.counts.get("deleted", 0) + 1


def _why(group: ObservedContainerGroup) -> str:
    details = [f"{c.name}: {c.detail_status}" for c in group.containers if c.detail_status]
    return f" ({'; '.join(details)})" if details else ""
