"""What a ``BatchJob`` spec asks for: the files to upload, the pool, the job, one task
per input file or sweep item and a merge task after them, with ids, commands and
dependencies rendered and hashes of their canonical forms.

Pure: the local files come in as ``BatchInputs``, read beforehand by ``engine/inputs.py``.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import Any

from runner.errors import Diagnostic, SpecError
from runner.plan.batch_inputs import BatchInputs, InputFile
from runner.plan.batch_pool import pool_canonical
from runner.plan.batch_secrets import SecretsFile, secrets_file, wrapped_command
from runner.plan.canonical import SENSITIVE
from runner.plan.provenance import Stamp
from runner.spec.batch_containers import WORKING_DIRECTORY, TaskContainer
from runner.spec.batch_environment import looks_secret
from runner.spec.models import BATCH_ID, BatchJob
from runner.spec.sweeps import TaskOrigin, sweep_items
from runner.spec.task_graph import DependencyProblem, job_dependencies, wanted_dependencies

# Batch's limit on the combined length of a task's dependsOn.taskIds.
MAX_DEPENDENCY_IDS = 64_000
# A name holding these is a pattern (Batch output files upload what it matches).
GLOB_CHARS = frozenset("*?[")

# Each task's stdout.txt and stderr.txt sit one level above its working directory.
STD_FILES_PATTERN = "../std*.txt"


@dataclass(frozen=True)
class LocalFile:
    """A local file that becomes a blob: ``md5`` is the base64 Content-MD5. One that is
    a blob already (``in_cloud``: an earlier step's output) is only read, at
    ``task_path`` in the task's folder."""

    path: Path
    container: str
    blob: str
    md5: str
    size: int
    in_cloud: bool = False
    task_path: str = ""

    @property
    def file_path(self) -> str:
        """Where the task finds it, relative to its working directory."""
        return self.task_path or self.blob


@dataclass(frozen=True)
class MergedInput:
    """A file a mapped task writes, handed to the merge task: the blob ``<task>/<name>``
    of the output container, at ``<task>/<name>`` in the merge's working directory.
    ``identity`` is the mapped task's: what the file is computed from."""

    task: str
    name: str
    identity: str

    @property
    def path(self) -> str:
        return f"{self.task}/{self.name}"


@dataclass(frozen=True)
class DesiredTask:
    id: str
    command: str  # the spec's shell command, run under /bin/sh -c on the node
    input: LocalFile | None  # a mapped task's input file; sweep and merge tasks have none
    outputs: tuple[str, ...]  # uploaded and collected
    # The files the pool's start task copies to the shared folder (blob -> Content-MD5):
    # the command runs them, so they are part of what the task's result depends on.
    start_files: tuple[tuple[str, str], ...] = ()
    depends_on: tuple[str, ...] = ()  # task ids, ranges expanded
    depends_on_ranges: tuple[tuple[int, int], ...] = ()  # sent as Batch's taskIdRanges
    # What this task's failure does to the tasks that depend on it.
    dependency_action: str = "block"
    handed_on: tuple[str, ...] = ()  # uploaded for the merge task, not collected
    merged: tuple[MergedInput, ...] = ()  # a merge task's inputs, in input file order
    container: TaskContainer | None = None  # the image the command runs in, if any
    environment: tuple[tuple[str, str], ...] = ()  # tasks.environment, rendered
    secrets: SecretsFile | None = None  # job.secrets, handed over in a file
    max_retries: int = 0  # with secrets: how long the wrapper keeps them for a retry

    @property
    def is_merge(self) -> bool:
        return bool(self.merged)

    @property
    def command_line(self) -> str:
        # Batch runs command lines without a shell; the spec's command is a shell line
        # (it names $AZ_BATCH_NODE_SHARED_DIR), so it is handed to /bin/sh.
        if self.secrets is not None:
            wrapped = wrapped_command(self.command, self.max_retries)
            return f"/bin/sh -c {shlex.quote(wrapped)}"
        return f"/bin/sh -c {shlex.quote(self.command)}"

    def canonical(self) -> dict[str, Any]:
        files: list[dict[str, Any]] = [
            {"blob": m.path, "filePath": m.path, "taskIdentity": m.identity} for m in self.merged
        ]
        if self.input is not None:
            f = self.input
            files = [{"blob": f.blob, "filePath": f.file_path, "contentMd5": f.md5}]
            if f.in_cloud:
                files[0]["container"] = f.container
        out: dict[str, Any] = {
            "id": self.id,
            "commandLine": self.command_line,
            "resourceFiles": files,
            "outputs": list(self.outputs),
        }
        # Keys only when set: tasks without dependencies keep the identity they had.
        if self.handed_on:
            out["handedOn"] = list(self.handed_on)
        if self.depends_on:
            out["dependsOn"] = list(self.depends_on)
        if self.dependency_action != "block":
            out["exitConditions"] = {"default": {"dependencyAction": self.dependency_action}}
        if self.container is not None:
            out["containerSettings"] = container_settings(self.container)
        if self.environment:
            out["environmentSettings"] = dict(self.environment)
        if self.secrets is not None:
            # Names only: a changed value does not run the task again.
            out["secrets"] = dict.fromkeys(self.secrets.names, SENSITIVE)
        return out

    @property
    def identity(self) -> str:
        """What the task's result was computed from: its command, outputs, the content of
        its resource files and of the start task's files. Kept on the task in Batch; a
        task whose identity differs ran on something else and must run again."""
        return canonical_hash({**self.canonical(), "startTaskFiles": dict(self.start_files)})


@dataclass(frozen=True)
class DesiredBatch:
    spec: BatchJob
    containers: dict[str, str]  # role (application, input, output) -> container name
    app_files: tuple[LocalFile, ...]
    tasks: tuple[DesiredTask, ...]
    pool: dict[str, Any] = field(default_factory=dict)
    job: dict[str, Any] = field(default_factory=dict)
    # Written on what the run makes (apply sets it); no hash covers it.
    stamp: Stamp = field(default_factory=Stamp)
    # tasks.forEach.rows, as read for this plan: the plan names it, so that a saved plan
    # made from other rows is seen to be stale. No hash covers it (the tasks do).
    rows_file: InputFile | None = None
    # job.secrets: the blob apply uploads them to, each task's resource file.
    secrets: SecretsFile | None = None

    @property
    def uploads(self) -> tuple[LocalFile, ...]:
        inputs = (t.input for t in self.tasks if t.input is not None)
        return self.app_files + tuple(f for f in inputs if not f.in_cloud)

    @property
    def uses_dependencies(self) -> bool:
        """Whether the job must be made with ``usesTaskDependencies``."""
        return any(t.depends_on for t in self.tasks)

    @property
    def pool_hash(self) -> str:
        """The pool's canonical form plus the content of the files its start task copies:
        Batch shows a pool's resource files only as URLs, so a changed script is seen
        through this hash, kept in the pool's metadata."""
        files = {f.blob: f.md5 for f in self.app_files}
        return canonical_hash({**self.pool, "startTaskFiles": files})

    @property
    def job_hash(self) -> str:
        return canonical_hash(self.job)

    @property
    def job_environment(self) -> dict[str, str]:
        """What every task of the job gets in its environment (``job.environment``)."""
        return dict(self.job.get("commonEnvironmentSettings") or {})

    @property
    def job_inputs(self) -> dict[str, Any]:
        """The local files the job's tasks are made from that are no uploads (a rows
        file), as the plan shows them beside the job: ``plan/stale.py`` reads them."""
        if self.rows_file is None:
            return {}
        rows = self.rows_file
        return {"forEachRows": {"source": str(rows.path), "contentMd5": rows.md5}}


def container_settings(container: TaskContainer) -> dict[str, Any]:
    """A task's ``containerSettings`` as Batch takes them."""
    settings: dict[str, Any] = {
        "imageName": container.image,
        "workingDirectory": WORKING_DIRECTORY[container.working_directory],
    }
    if container.options:
        settings["containerRunOptions"] = container.options
    return settings


def canonical_hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _local_file(f: InputFile, container: str) -> LocalFile:
    if f.location is not None:
        where = f.location
        return LocalFile(
            path=f.path,
            container=where.container,
            blob=where.blob,
            md5=f.md5,
            size=f.size,
            in_cloud=True,
            task_path=f.path.name,
        )
    return LocalFile(path=f.path, container=container, blob=f.path.name, md5=f.md5, size=f.size)


def _error(summary: str, field_path: str) -> SpecError:
    return SpecError([Diagnostic(summary=summary, field_path=field_path)])


def _environment(
    spec: BatchJob, origin: TaskOrigin, variables: Mapping[str, Any]
) -> tuple[tuple[str, str], ...]:
    settings = []
    for name, template in spec.tasks.environment.items():
        at = f"tasks.environment.{name}"
        value = _render(template, origin, variables, at)
        what = looks_secret(value)
        if what:
            raise _error(
                f"{name} renders, for {_name(origin)}, a value that looks like {what}: "
                "give it as a secret (job.secrets)",
                at,
            )
        settings.append((name, value))
    return tuple(settings)


def mapped_origins(
    spec: BatchJob, inputs: BatchInputs
) -> list[tuple[TaskOrigin, InputFile | None]]:
    """What each mapped task is made from, in order: an input file (with the file), or a
    sweep's item (with none: a sweep's tasks have no input files)."""
    sweep = spec.tasks.for_each
    if sweep is None:
        return [(f.path, f) for f in inputs.inputs]
    return [(item, None) for item in sweep_items(sweep, inputs.rows)]


def _name(origin: TaskOrigin) -> str:
    return origin.name if isinstance(origin, PurePath) else str(origin)


def _render(
    template: str, origin: TaskOrigin, variables: Mapping[str, Any], field_path: str
) -> str:
    from runner.spec.templates import render_task_template

    try:
        return render_task_template(template, origin, variables)
    except ValueError as exc:
        raise _error(str(exc), field_path) from None


def with_dependencies(
    spec: BatchJob,
    mapped: list[DesiredTask],
    origins: list[TaskOrigin],
    given: list[tuple[str, ...]],
    env: Mapping[str, Any],
) -> list[DesiredTask]:
    """The mapped tasks with what they depend on, then the merge task, if the spec has
    one: it depends on every mapped task and receives the files each gives it (``given``,
    per mapped task), in input file (or sweep) order."""
    pairs = [(t.id, o) for t, o in zip(mapped, origins, strict=True)]
    try:
        deps = job_dependencies(spec, pairs)
        wanted = wanted_dependencies(spec, pairs)
    except DependencyProblem as exc:
        raise _error(str(exc), exc.field) from None
    tasks = [
        replace(t, depends_on=deps[t.id], depends_on_ranges=wanted[t.id].ranges) for t in mapped
    ]
    merge = spec.merge
    if merge is None:
        return tasks
    merged = tuple(
        MergedInput(t.id, name, t.identity)
        for t, names in zip(tasks, given, strict=True)
        for name in names
        if not GLOB_CHARS & set(name)
    )
    if not merged:
        raise _error(f"merge task {merge.id!r} has nothing to merge", "merge")
    listed = sum(len(t) for t in deps[merge.id])
    if listed > MAX_DEPENDENCY_IDS:
        # Batch refuses such a task (TaskDependencyListTooLong), after the pool was made.
        raise _error(
            f"merge task {merge.id!r} would depend on {len(tasks)} tasks whose ids take "
            f"{listed} characters; Batch takes at most {MAX_DEPENDENCY_IDS} in a task's "
            "dependsOn.taskIds: use shorter task ids or fewer input files",
            "merge",
        )
    paths_in = [m.path for m in merged]
    tasks.append(
        DesiredTask(
            id=merge.id,
            command=_render_merge(merge.command, paths_in, env, "merge.command"),
            input=None,
            outputs=tuple(_render_merge(o, paths_in, env, "merge.outputs") for o in merge.outputs),
            start_files=tasks[0].start_files if tasks else (),
            depends_on=deps[merge.id],
            merged=merged,
            container=merge.container or spec.tasks.container,
        )
    )
    return tasks


def _render_merge(
    template: str, inputs: list[str], variables: Mapping[str, Any], field_path: str
) -> str:
    from runner.spec.templates import render_merge_template

    try:
        return render_merge_template(template, inputs, variables)
    except ValueError as exc:
        raise _error(str(exc), field_path) from None


def desired_batch(spec: BatchJob, inputs: BatchInputs) -> DesiredBatch:
    containers = {
        "application": spec.container_name("application"),
        "input": spec.container_name("input"),
        "output": spec.container_name("output"),
    }
    app_files = tuple(_local_file(f, containers["application"]) for f in inputs.start_files)
    start_files = tuple(sorted((f.blob, f.md5) for f in app_files))

    env = dict(spec.vars)
    tasks: list[DesiredTask] = []
    given: list[tuple[str, ...]] = []  # per mapped task, the files it gives the merge
    origins = mapped_origins(spec, inputs)
    secrets = secrets_file(spec, containers["input"])
    seen_ids: dict[str, TaskOrigin] = {}
    seen_blobs: dict[str, Path] = {}
    for origin, found in origins:
        task_id = _render(spec.tasks.id, origin, env, "tasks.id")
        if not BATCH_ID.match(task_id):
            raise _error(
                f"task id {task_id!r} (from {_name(origin)}) is not 1-64 letters, digits, "
                "'-' and '_'",
                "tasks.id",
            )
        # Batch keeps an id's case but compares ids without it.
        if task_id.lower() in seen_ids:
            raise _error(
                f"task id {task_id!r} repeats for {_name(seen_ids[task_id.lower()])} and "
                f"{_name(origin)}",
                "tasks.id",
            )
        seen_ids[task_id.lower()] = origin
        if found is not None:
            if found.path.name in seen_blobs:
                raise _error(
                    f"two input files are named {found.path.name!r}: "
                    f"{seen_blobs[found.path.name]} and {found.path}",
                    "tasks.forEachFile",
                )
            seen_blobs[found.path.name] = found.path
        outputs = tuple(_render(o, origin, env, "tasks.outputs") for o in spec.tasks.outputs)
        names = outputs
        if spec.merge is not None and spec.merge.inputs is not None:
            rendered = (_render(i, origin, env, "merge.inputs") for i in spec.merge.inputs)
            names = tuple(dict.fromkeys(rendered))
        given.append(names)
        # What the merge takes and the task would not collect is uploaded all the same.
        handed = tuple(n for n in names if n not in outputs)
        tasks.append(
            DesiredTask(
                id=task_id,
                command=_render(spec.tasks.command, origin, env, "tasks.command"),
                input=None if found is None else _local_file(found, containers["input"]),
                outputs=outputs,
                start_files=start_files,
                dependency_action=spec.tasks.dependency_action,
                handed_on=handed,
                container=spec.tasks.container,
                environment=_environment(spec, origin, env),
                secrets=secrets,
                max_retries=spec.tasks.max_retries,
            )
        )
    tasks = with_dependencies(spec, tasks, [o for o, _ in origins], given, env)
    if secrets is not None and spec.merge is not None:
        merge = replace(tasks[-1], secrets=secrets, max_retries=spec.merge.max_retries)
        tasks = [*tasks[:-1], merge]

    pool = spec.pool
    pool_form = pool_canonical(spec, tuple(f.blob for f in app_files))
    job: dict[str, Any] = {"id": spec.job.id, "poolId": pool.id}
    if any(t.depends_on for t in tasks):
        # Only then: jobs without dependencies keep the hash they had.
        job["usesTaskDependencies"] = True
    if spec.job.environment:
        # Likewise: Batch sends these to every task of the job and cannot change them.
        job["commonEnvironmentSettings"] = dict(spec.job.environment)
    return DesiredBatch(
        spec=spec,
        containers=containers,
        app_files=app_files,
        tasks=tuple(tasks),
        pool=pool_form,
        job=job,
        rows_file=inputs.rows_file,
        secrets=secrets,
    )
