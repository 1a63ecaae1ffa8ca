"""``kind: BatchJob``: storage, a Batch pool and job, and one task per input file."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from runner.spec.base import (
    BATCH_ID,
    BATCH_ID_CHARS,
    BLOB_CONTAINER,
    MAX_BATCH_ID,
    CostSettings,
    Duration,
    Model,
    WholeNumber,
    located,
    parse_duration,
    parse_ttl,
    spec_name,
)
from runner.spec.batch_containers import CONTAINER_IMAGE, PoolContainers, TaskContainer
from runner.spec.batch_environment import BatchEnvironment, SecretMap
from runner.spec.sweeps import ForEach
from runner.spec.templates import is_template, literal_text


class StorageContainers(Model):
    """Blob container names; empty means ``<spec name>-application`` and so on."""

    application: str | None = None
    input: str | None = None
    output: str | None = None

    @field_validator("application", "input", "output")
    @classmethod
    def _container(cls, v: str | None) -> str | None:
        if v is not None and not BLOB_CONTAINER.match(v):
            raise ValueError(
                "blob container names are 3-63 lowercase letters, digits and single '-'"
            )
        return v


class Storage(Model):
    account: str = "local"
    containers: StorageContainers = Field(default_factory=StorageContainers)


class BatchAccount(Model):
    account: str = "local"
    url: str | None = None  # https://<account>.<region>.batch.azure.com on Azure
    # The account's region, which prices its nodes; unset, it is read from ``url``.
    location: str | None = None


class ImageReference(Model):
    publisher: str = "canonical"
    offer: str = "0001-com-ubuntu-server-jammy"
    sku: str = "22_04-lts"
    version: str = "latest"


class StartTask(Model):
    """Files named ``package:<path>`` ship with runner (the task script) and are copied to
    ``AZ_BATCH_NODE_SHARED_DIR``; other entries are paths relative to the spec file."""

    copy_: list[str] = Field(default_factory=list, alias="copy")
    command: str | None = None
    wait_for_success: bool = True


# Batch's bounds on an autoscale evaluation interval, and the default it takes for a
# formula given without one.
MIN_EVALUATION_INTERVAL = timedelta(minutes=5)
MAX_EVALUATION_INTERVAL = timedelta(hours=168)
DEFAULT_EVALUATION_INTERVAL = timedelta(minutes=15)
MAX_FORMULA_CHARS = 8 * 1024


class AutoScale(Model):
    """Batch sizes the pool by a formula it evaluates every ``evaluationInterval`` (5m to
    168h). Either the formula itself (Batch's autoscale language; it sets
    ``$TargetDedicatedNodes`` and ``$TargetLowPriorityNodes``), or ``min`` and ``max``:
    runner writes Batch's pending-tasks formula, which keeps the pool between them, on
    low-priority nodes with ``lowPriority``. Unset, the interval is Batch's 15m for a
    formula and its shortest, 5m, for ``min``/``max``: a pool waits up to one interval
    for its first nodes."""

    formula: str | None = None
    evaluation_interval: Duration | None = None
    min: Annotated[WholeNumber, Field(ge=0, le=1000)] | None = None
    max: Annotated[WholeNumber, Field(ge=1, le=1000)] | None = None
    low_priority: bool = False

    _interval = field_validator("evaluation_interval", mode="before")(
        classmethod(lambda cls, v: parse_duration(v))
    )

    @field_validator("evaluation_interval")
    @classmethod
    def _interval_bounds(cls, v: timedelta | None) -> timedelta | None:
        if v is not None and not MIN_EVALUATION_INTERVAL <= v <= MAX_EVALUATION_INTERVAL:
            raise ValueError("Batch evaluates autoscale formulas every 5m to 168h")
        return v

    @field_validator("formula")
    @classmethod
    def _formula(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("an autoscale formula must not be empty")
        if v is not None and len(v.encode()) > MAX_FORMULA_CHARS:
            raise ValueError("Batch takes autoscale formulas of at most 8 KB")
        return v

    @model_validator(mode="after")
    def _formula_or_bounds(self) -> AutoScale:
        bounds = self.min is not None or self.max is not None
        if self.formula is not None and bounds:
            raise located(
                "give autoScale either a formula or min and max (runner writes the formula "
                "from them), not both",
                "min" if self.min is not None else "max",
            )
        if self.formula is None and self.max is None:
            raise located(
                "autoScale needs a formula, or max (and min, 0 unless set): the most nodes "
                "runner's pending-tasks formula may ask for"
            )
        if self.formula is not None and self.low_priority:
            raise located(
                "lowPriority goes with min and max; a formula asks for low-priority nodes "
                "itself, by setting $TargetLowPriorityNodes",
                "lowPriority",
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise located(f"autoScale.min ({self.min}) is above max ({self.max})", "min")
        return self

    @property
    def interval(self) -> timedelta:
        if self.evaluation_interval is not None:
            return self.evaluation_interval
        return DEFAULT_EVALUATION_INTERVAL if self.formula else MIN_EVALUATION_INTERVAL


class Pool(Model):
    id: str
    vm_size: str = "STANDARD_D2S_V3"
    nodes: WholeNumber = Field(1, ge=0, le=1000)
    low_priority_nodes: WholeNumber = Field(0, ge=0, le=1000)
    # Sizes the pool instead of nodes and lowPriorityNodes.
    auto_scale: AutoScale | None = None
    image: ImageReference = Field(default_factory=ImageReference)
    node_agent_sku: str = "batch.node.ubuntu 22.04"
    task_slots_per_node: WholeNumber = Field(1, ge=1, le=256)
    start_task: StartTask | None = None
    containers: PoolContainers | None = None

    @model_validator(mode="before")
    @classmethod
    def _container_image(cls, data: Any) -> Any:
        # A pool that runs containers needs an image with Docker on it.
        if isinstance(data, dict) and data.get("containers") is not None and "image" not in data:
            return {**data, "image": CONTAINER_IMAGE}
        return data

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not BATCH_ID.match(v):
            raise ValueError("Batch ids are 1-64 letters, digits, '-' and '_'")
        return v

    @model_validator(mode="after")
    def _sized_one_way(self) -> Pool:
        # Batch refuses a pool that has both an autoscale formula and target node counts.
        if self.auto_scale is None:
            return self
        for name, alias in (("nodes", "nodes"), ("low_priority_nodes", "lowPriorityNodes")):
            if name in self.model_fields_set:
                raise located(
                    f"pool.{alias} and pool.autoScale both size the pool: give one of them "
                    "(autoScale.min and max bound an autoscaled pool)",
                    alias,
                )
        return self

    @property
    def autoscaled(self) -> bool:
        return self.auto_scale is not None


class Job(Model):
    id: str
    # Every task's environment (Batch's commonEnvironmentSettings); a task's own wins.
    environment: BatchEnvironment = Field(default_factory=dict)
    # Values every task gets in its environment that no Batch API can read back
    # (``runner.plan.batch_secrets``).
    secrets: SecretMap = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not BATCH_ID.match(v):
            raise ValueError("Batch ids are 1-64 letters, digits, '-' and '_'")
        return v

    @model_validator(mode="after")
    def _secrets_apart(self) -> Job:
        for name in self.secrets:
            if name in self.environment:
                raise located(
                    f"{name} is both a secret and an environment setting of the job: give it once",
                    "environment",
                    name,
                )
        return self


TASK_ID_RULE = f"task ids are 1-{MAX_BATCH_ID} letters, digits, '-' and '_'"


def task_id_template_problem(template: str) -> str | None:
    """Why no input file or sweep item can give a valid task id from ``template``, or None."""
    if not is_template(template):
        return None if BATCH_ID.match(template) else TASK_ID_RULE
    literal = literal_text(template)
    if literal is None:
        return None  # a syntax error, reported where the template is rendered
    bad = sorted(set(literal) - BATCH_ID_CHARS)
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return (
            f"{TASK_ID_RULE}, and the text around the id's {{{{ }}}} expressions "
            f"holds {shown}: no task can get a valid id"
        )
    if len(literal) > MAX_BATCH_ID and "{%" not in template:
        return (
            f"task ids are at most {MAX_BATCH_ID} characters, and the text around the id's "
            f"{{{{ }}}} expressions already has {len(literal)}"
        )
    return None


class TaskIdRange(Model):
    """Tasks whose ids are the whole numbers ``start`` to ``end``, both included. Either
    may be a template over ``file`` and ``vars`` giving a whole number (``{{ file.stem |
    int - 1 }}``: the tasks before this one); a rendered range that ends before it
    starts names no task."""

    start: Annotated[WholeNumber, Field(ge=0)] | str
    end: Annotated[WholeNumber, Field(ge=0)] | str

    @model_validator(mode="after")
    def _ordered(self) -> TaskIdRange:
        start, end = self.start, self.end
        if isinstance(start, int) and isinstance(end, int) and end < start:
            raise ValueError(f"a task id range ends ({end}) before it starts ({start})")
        return self


class DependsOn(Model):
    """Batch's ``dependsOn``: a task runs once every task named here has completed
    successfully. ``taskIds`` are templates over ``file`` and ``vars``, as ``id`` is."""

    task_ids: list[str] = Field(default_factory=list)
    task_id_ranges: list[TaskIdRange] = Field(default_factory=list)


# What a failed task does to the tasks that depend on it (Batch's
# ``exitConditions.default.dependencyAction``): ``block`` keeps them waiting, active, for
# good; ``satisfy`` lets them run as if it had succeeded.
DependencyAction = Literal["block", "satisfy"]


class TaskFactory(Model):
    """One task per input file matched by ``forEachFile`` (a glob relative to the spec
    file), or per item of a sweep, ``forEach`` (``runner.spec.sweeps``): exactly one.

    ``id``, ``command`` and ``outputs`` are templates over ``file`` (``file.name``,
    ``file.stem``, ``file.suffix``), or over a sweep's ``item`` or ``row`` and ``index``,
    and ``vars``; they are rendered per task by the planner.
    """

    for_each_file: str | None = None
    for_each: ForEach | None = None
    id: str
    command: str
    outputs: list[str] = Field(default_factory=list)
    # Each task's environment settings: templates, as command is.
    environment: BatchEnvironment = Field(default_factory=dict)
    max_wall_clock_time: Duration | None = None
    max_retries: WholeNumber = Field(0, ge=0, le=100)
    depends_on: DependsOn | None = None
    dependency_action: DependencyAction = "block"
    container: TaskContainer | None = None

    _duration = field_validator("max_wall_clock_time", mode="before")(
        classmethod(lambda cls, v: parse_duration(v))
    )

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        # What is checked here holds for every input file; each rendered id is checked
        # against the files themselves when they are read (`runner.spec.files`).
        problem = task_id_template_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @property
    def source_text(self) -> str:
        """What the tasks are made from, in words."""
        sweep = self.for_each
        if sweep is None:
            return f"one task per file in {self.for_each_file}"
        if sweep.values is not None:
            return f"one task per value of tasks.forEach.values ({len(sweep.values)})"
        if sweep.range is not None:
            r = sweep.range
            step = f" step {r.step}" if r.step != 1 else ""
            return f"one task per number from {r.start} to {r.end}{step}"
        return f"one task per row of {sweep.rows}"

    @model_validator(mode="after")
    def _one_source(self) -> TaskFactory:
        if (self.for_each_file is None) == (self.for_each is None):
            both = self.for_each_file is not None
            raise located(
                "tasks takes exactly one of forEachFile (a glob: one task per input file) "
                "and forEach (values, range or rows: one task per item)"
                + ("; it has both" if both else ""),
                *(("forEach",) if both else ()),
            )
        return self


class MergeTask(Model):
    """One task that runs after every mapped task and receives their outputs as resource
    files: ``inputs`` (templates over ``file`` and ``vars``, one set per mapped task, each
    the name of a file the task writes; unset, the task's ``outputs``) land in the merge's
    working directory as ``<task id>/<name>``. ``command`` and ``outputs`` are templates
    over ``vars`` and ``inputs``, those paths in the order of the input files."""

    id: str
    command: str
    inputs: list[str] | None = None
    outputs: list[str] = Field(default_factory=list)
    max_wall_clock_time: Duration | None = None
    max_retries: WholeNumber = Field(0, ge=0, le=100)
    container: TaskContainer | None = None

    _duration = field_validator("max_wall_clock_time", mode="before")(
        classmethod(lambda cls, v: parse_duration(v))
    )

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not BATCH_ID.match(v):
            raise ValueError(TASK_ID_RULE)
        return v

    @field_validator("inputs")
    @classmethod
    def _inputs(cls, v: list[str] | None) -> list[str] | None:
        # A resource file is one blob: a pattern names none in particular.
        for name in v or ():
            if set(name) & set("*?["):
                raise ValueError(
                    f"merge input {name!r} is a pattern; name each file a mapped task writes"
                )
        return v


TeardownWhen = Literal["never", "onSuccess", "always"]


# How often each policy deletes: a kept job needs the containers its tasks read and wrote.
_DELETES = {"never": 0, "onSuccess": 1, "always": 2}


class BatchTeardown(Model):
    """When each part goes. The containers are kept at least as long as the job: a kept
    job's completed tasks are reused by the next apply, whose collect reads their outputs
    from the output container. Unset, ``containers`` is ``never`` when the job is never
    torn down, else ``onSuccess``."""

    job: TeardownWhen = "always"
    pool: TeardownWhen = "always"
    containers: TeardownWhen = "onSuccess"

    @model_validator(mode="before")
    @classmethod
    def _containers_follow_job(cls, data: Any) -> Any:
        if isinstance(data, dict) and "containers" not in data and data.get("job") == "never":
            return {**data, "containers": "never"}
        return data

    @field_validator("containers")
    @classmethod
    def _kept_with_job(cls, v: str, info: ValidationInfo) -> str:
        job = info.data.get("job", "always")
        if _DELETES[v] > _DELETES[job]:
            allowed = " or ".join(p for p, n in _DELETES.items() if n <= _DELETES[job])
            raise ValueError(
                f"containers: {v} would delete the output container that a kept job "
                f"(job: {job}) needs: the next apply reuses the job's completed tasks and "
                f"collects their outputs from it; use containers: {allowed}"
            )
        return v


class BatchCollect(Model):
    dir: str


class BatchJob(Model):
    kind: Literal["BatchJob"]
    name: str
    vars: dict[str, Any] = Field(default_factory=dict)
    storage: Storage = Field(default_factory=Storage)
    batch: BatchAccount = Field(default_factory=BatchAccount)
    pool: Pool
    job: Job
    tasks: TaskFactory
    merge: MergeTask | None = None
    timeout: Duration = timedelta(minutes=30)
    # Required in a BatchJob document (the loader says so); a workflow step's collect
    # replaces it.
    collect: BatchCollect | None = None
    teardown: BatchTeardown = Field(default_factory=BatchTeardown)
    # How long the pool, job and containers may live (see ``ContainerGroup.ttl``).
    ttl: Duration | None = None
    cost: CostSettings = CostSettings()

    _duration = field_validator("timeout", mode="before")(
        classmethod(lambda cls, v: parse_duration(v))
    )
    _ttl = field_validator("ttl", mode="before")(classmethod(lambda cls, v: parse_ttl(v)))

    _name = field_validator("name")(classmethod(lambda cls, v: spec_name(v)))

    @model_validator(mode="after")
    def _containers_need_a_container_pool(self) -> BatchJob:
        for part, container in (("tasks", self.tasks.container), ("merge", self.merge_container)):
            if container is not None and self.pool.containers is None:
                raise located(
                    f"{part}.container runs the task in {container.image!r}, but pool "
                    f"{self.pool.id!r} runs no containers: give the pool `containers:` "
                    "(its images and registries)",
                    part,
                    "container",
                )
        if self.pool.containers is not None and self.tasks.container is None:
            # Batch fails each such task on the node (ContainerTaskSettingsNotFound).
            raise located(
                f"pool {self.pool.id!r} runs containers, and a task on it must run in one: "
                "give tasks.container (its image); the merge task runs in the same image "
                "unless merge.container names another",
                "tasks",
            )
        return self

    @model_validator(mode="after")
    def _secrets_not_in_task_environment(self) -> BatchJob:
        for name in self.job.secrets:
            if name in self.tasks.environment:
                raise located(
                    f"{name} is a secret of the job (job.secrets) and a task environment "
                    "setting: give it once",
                    "tasks",
                    "environment",
                    name,
                )
        return self

    @property
    def merge_container(self) -> TaskContainer | None:
        return self.merge.container if self.merge is not None else None

    @model_validator(mode="after")
    def _merge_has_inputs(self) -> BatchJob:
        merge = self.merge
        if merge is None:
            return self
        named = self.tasks.outputs if merge.inputs is None else merge.inputs
        if not [o for o in named if not set(o) & set("*?[")]:
            field = "tasks.outputs" if merge.inputs is None else "merge.inputs"
            where = f"{field} is empty" if not named else f"{field} holds only patterns"
            raise located(
                f"merge task {merge.id!r} has nothing to merge: {where}; name the files "
                "the mapped tasks write, in merge.inputs or tasks.outputs",
                "merge",
                *(("inputs",) if merge.inputs is not None else ()),
            )
        deps = self.tasks.depends_on
        if deps and merge.id in deps.task_ids:
            raise located(
                f"the mapped tasks depend on the merge task {merge.id!r}, which depends on "
                "them: a dependency cycle",
                "tasks",
                "dependsOn",
                "taskIds",
                deps.task_ids.index(merge.id),
            )
        return self

    def container_name(self, role: Literal["application", "input", "output"]) -> str:
        return getattr(self.storage.containers, role) or f"{self.name}-{role}"
