"""Plan data: one ``Change`` per resource (no-op included), ordered, immutable."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SkipValidation,
    model_serializer,
    model_validator,
)

from runner.plan.action import Action
from runner.plan.batch_desired import DesiredBatch
from runner.plan.cost_lines import CostEstimate

FORMAT_VERSION = "1.0"

# The resource kind of each piece of a BatchJob spec, as ``runner status`` names them.
PIECE_KINDS = {
    "pool": "BatchPool",
    "job": "BatchJob",
    "task": "BatchTask",
    "container": "BlobContainer",
    "blob": "Blob",
}
# Pieces named inside another one: a task inside its job, a blob inside its container.
NESTED_PIECES = frozenset({"task", "blob"})


class Part(BaseModel):
    """One piece of a composite resource: ``pool``, ``job``, ``task`` (``parent`` is its
    job), ``container``, ``blob`` (``parent`` is its container). A piece with no name
    stands for the steps over all pieces of that kind (the uploads of ``blob``)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    name: str = ""
    parent: str = ""


class Address(BaseModel):
    """Where a change applies, as a value. Its text form is what plans, events and saved
    plans show, and what ``parse`` reads back:

    - ``ResourceGroup/<rg>``: kind and name;
    - ``ContainerGroup/<rg>/<name>``: ``scope`` is the resource group;
    - ``BatchJob/<spec>`` and its pieces ``BatchJob/<spec>/pool/<id>``, ``.../job/<id>``,
      ``.../task/<job>/<id>``, ``.../container/<name>``, ``.../blob/<container>/<blob>``:
      ``name`` is the spec's, ``part`` the piece.

    Equality is exact, as the text was; ``folded`` gives the form ARM's case-insensitive
    names are looked up by.
    """

    model_config = ConfigDict(frozen=True)

    kind: str
    scope: str = ""
    name: str = ""
    part: Part | None = None

    @classmethod
    def parse(cls, text: str) -> Address:
        kind, _, rest = text.partition("/")
        segments = rest.split("/") if rest else []
        if kind == "ContainerGroup" and len(segments) == 2:
            return cls(kind=kind, scope=segments[0], name=segments[1])
        if not segments:
            return cls(kind=kind)
        name, pieces = segments[0], segments[1:]
        if not pieces:
            return cls(kind=kind, name=name)
        piece, names = pieces[0], pieces[1:]
        if piece in NESTED_PIECES and len(names) == 2:
            part = Part(kind=piece, parent=names[0], name=names[1])
        else:
            part = Part(kind=piece, name="/".join(names))
        return cls(kind=kind, name=name, part=part)

    @classmethod
    def resource_group(cls, rg: str) -> Address:
        return cls(kind="ResourceGroup", name=rg)

    @classmethod
    def container_group(cls, rg: str, name: str) -> Address:
        return cls(kind="ContainerGroup", scope=rg, name=name)

    @classmethod
    def batch(
        cls, spec: str, piece: str | None = None, name: str = "", parent: str = ""
    ) -> Address:
        """The BatchJob spec ``spec`` itself, or one of its pieces."""
        part = None if piece is None else Part(kind=piece, name=name, parent=parent)
        return cls(kind="BatchJob", name=spec, part=part)

    @property
    def resource_kind(self) -> str:
        """What the addressed resource is: a pool of a BatchJob spec is a ``BatchPool``."""
        if self.part is None:
            return self.kind
        return PIECE_KINDS.get(self.part.kind, self.kind)

    @property
    def leaf(self) -> str:
        """The addressed resource's own name: a group's, a pool's id, a blob's name."""
        return self.part.name if self.part is not None else self.name

    @property
    def root(self) -> Address:
        """The whole resource a piece belongs to: its BatchJob spec's address."""
        return self.model_copy(update={"part": None}) if self.part is not None else self

    @property
    def parent(self) -> Address:
        """The address one level up, where a list of siblings is folded under."""
        if self.part is not None:
            if self.part.name:
                return self.model_copy(update={"part": self.part.model_copy(update={"name": ""})})
            if self.part.parent:
                return self.model_copy(update={"part": Part(kind=self.part.kind)})
            return self.model_copy(update={"part": None})
        if self.name:
            return self.model_copy(update={"name": ""})
        return self.model_copy(update={"scope": ""})

    def folded(self) -> Address:
        """Lower-cased, for names that services compare ignoring case."""
        part = self.part
        if part is not None:
            part = Part(kind=part.kind, name=part.name.lower(), parent=part.parent.lower())
        return Address(kind=self.kind, scope=self.scope.lower(), name=self.name.lower(), part=part)

    def segments(self) -> tuple[str, ...]:
        head = [self.kind, self.scope, self.name]
        if self.part is not None:
            head += [self.part.kind, self.part.parent, self.part.name]
        return tuple(s for s in head if s)

    def __str__(self) -> str:
        return "/".join(self.segments())

    def __lt__(self, other: Address) -> bool:
        return self.segments() < other.segments()

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            parsed = cls.parse(value)
            return {
                "kind": parsed.kind,
                "scope": parsed.scope,
                "name": parsed.name,
                "part": parsed.part,
            }
        return value

    @model_serializer(mode="plain")
    def _to_text(self) -> str:
        return str(self)


class Change(BaseModel):
    """What happens to one resource and why.

    ``before``/``after`` are canonical forms with secure values replaced by
    ``"(sensitive)"``; ``replace_paths`` name the fields that force a replace.

    The last three fields say what the engine must know beyond the action, as Terraform's
    ``ActionReason`` does. They are decided from the same observed state ``before`` shows,
    so they are left out of the JSON form, which stays at format 1.0.
    """

    model_config = ConfigDict(frozen=True)

    address: Address
    action: Action
    reason: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    replace_paths: tuple[str, ...] = ()
    depends_on: tuple[Address, ...] = ()
    paths: tuple[str, ...] = ()  # every changed field, secure ones named but never shown
    subscription: str | None = None  # None: the target's default subscription
    # A delete of it is still under way (or, for a replace, its own delete): apply waits
    # until it is gone before making it again.
    waits_for_delete: bool = Field(default=False, exclude=True)
    # This workspace made it, or this change makes it: teardown may remove it. Resources
    # used as they were found (a blob container someone else made) are never removed.
    owned: bool = Field(default=False, exclude=True)
    # Only user tags differ: apply patches them rather than sending the whole definition.
    tags_only: bool = Field(default=False, exclude=True)

    @property
    def kind(self) -> str:
        return self.address.resource_kind


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    format_version: str = FORMAT_VERSION
    workspace: str = ""
    changes: tuple[Change, ...] = ()
    orphans: tuple[Address, ...] = Field(default=(), description="owned by workspace, not in specs")
    # What the changes will cost and at whose prices (``runner.plan.cost.estimate``).
    cost: CostEstimate | None = None
    # What apply makes of each BatchJob spec: computed once, from the local files as they
    # were read for this plan. Not in the JSON form: its uploads and tasks are the changes.
    batches: SkipValidation[tuple[DesiredBatch, ...]] = Field(default=(), exclude=True)

    def batch(self, spec_name: str) -> DesiredBatch | None:
        return next((b for b in self.batches if b.spec.name == spec_name), None)

    @property
    def has_changes(self) -> bool:
        return any(c.action.changes_anything for c in self.changes)

    def counts(self) -> dict[str, int]:
        add = sum(c.action.adds for c in self.changes)
        remove = sum(c.action.removes for c in self.changes)
        update = sum(1 for c in self.changes if c.action is Action.UPDATE)
        start = sum(1 for c in self.changes if c.action is Action.START)
        return {"add": add, "change": update, "start": start, "destroy": remove}
