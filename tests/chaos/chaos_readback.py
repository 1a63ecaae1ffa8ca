"""What a run left, read back through the real SDK clients, Docker and the node folders.

Snapshots are plain data, so an interrupted-then-resumed run compares with ``==`` to an
uninterrupted one. Leftover finders return one line per thing the runner made that is
still there after ``runner destroy``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from waiting import eventually

GROUP_LABEL = "runner.local.group"
OWNER_LABEL = "runner.local.instance"
ROLE_LABEL = "runner.local.role"
NAME_LABEL = "runner.local.container"


# --- container groups ------------------------------------------------------------------


def docker_containers(docker: Any, instance: str, rg: str, name: str | None = None) -> list[Any]:
    """The local target's Docker containers of ``rg`` (of one group if ``name``)."""
    found = docker.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={instance}"})
    wanted = f"/{rg}/{name}".lower() if name else f"/{rg}/".lower()
    return [
        c
        for c in found
        if (
            c.labels.get(GROUP_LABEL, "").lower().endswith(wanted)
            if name
            else wanted in c.labels.get(GROUP_LABEL, "").lower()
        )
    ]


def group_names(aci: Any, rg: str) -> list[str]:
    """Names of the groups in ``rg`` as listed, duplicates kept (an empty list if the
    resource group does not exist)."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return sorted(g.name for g in aci.container_groups.list_by_resource_group(rg))
    except ResourceNotFoundError:
        return []


def group_snapshot(aci: Any, docker: Any, instance: str, rg: str) -> dict[str, Any]:
    """Every group of ``rg``: definition, states, runner's tags, and its containers on
    the Docker engine (role and state; ids are kept apart, see ``docker_ids``)."""
    names = group_names(aci, rg)
    snapshot: dict[str, Any] = {"names": names}
    for name in sorted(set(names)):
        g = aci.container_groups.get(rg, name)
        tags = dict(g.tags or {})
        snapshot[name] = {
            "provisioning": g.provisioning_state,
            "state": g.instance_view.state if g.instance_view else None,
            "restart_policy": g.restart_policy,
            "runner_tags": {k: v for k, v in tags.items() if k.startswith(("runner-", "managed"))},
            "containers": [_container(c) for c in g.containers],
            "docker": sorted(
                (c.labels.get(ROLE_LABEL, ""), c.labels.get(NAME_LABEL, ""), c.status)
                for c in docker_containers(docker, instance, rg, name)
            ),
        }
    return snapshot


def _container(c: Any) -> dict[str, Any]:
    view = c.instance_view
    state = view.current_state if view else None
    return {
        "name": c.name,
        "image": c.image,
        "command": list(c.command or []),
        "env": sorted((e.name, e.value) for e in c.environment_variables or ()),
        "state": state.state if state else None,
        "restarts": view.restart_count if view else None,
    }


def docker_ids(docker: Any, instance: str, rg: str) -> dict[str, set[str]]:
    """Ids of the running Docker containers per group: the same ids after a re-apply
    mean the groups were left alone (an unchanged PUT would restart every container)."""
    ids: dict[str, set[str]] = {}
    for c in docker_containers(docker, instance, rg):
        if c.status == "running":
            group = c.labels[GROUP_LABEL].rsplit("/", 1)[-1]
            ids.setdefault(group, set()).add(c.id)
    return ids


def group_leftovers(
    aci: Any, resources: Any, docker: Any, instance: str, rg: str, workspace: str
) -> list[str]:
    left: list[str] = []
    if resources.resource_groups.check_existence(rg):
        left.append(f"resource group {rg}")
    for g in resources.resource_groups.list():
        if (g.tags or {}).get("runner-workspace") == workspace and g.name != rg:
            left.append(f"resource group {g.name} tagged with the workspace")
    for cg in aci.container_groups.list():
        if (cg.tags or {}).get("runner-workspace") == workspace:
            left.append(f"container group {cg.id}")

    def no_containers() -> bool:
        return not docker_containers(docker, instance, rg)

    if not eventually(no_containers):
        left += [f"docker container {c.name}" for c in docker_containers(docker, instance, rg)]
    return left


# --- Batch and Blob --------------------------------------------------------------------


def batch_state(batch: Any, kind: str, ident: str) -> str:
    """``absent``, ``deleting`` or the pool's or job's state."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        found = batch.get_pool(ident) if kind == "pool" else batch.get_job(ident)
    except ResourceNotFoundError:
        return "absent"
    return str(found.state).rsplit(".", 1)[-1].lower()


def gone(state: str) -> bool:
    return state in ("absent", "deleting")


def batch_snapshot(
    batch: Any, blobs: Any, pool: str, job: str, containers: list[str]
) -> dict[str, Any]:
    """What is there of the job's resources (``deleting`` counts as gone: the delete was
    accepted and finishes by itself)."""
    existing = {c.name for c in blobs.list_containers()}
    return {
        "pool": "gone" if gone(batch_state(batch, "pool", pool)) else "present",
        "job": "gone" if gone(batch_state(batch, "job", job)) else "present",
        "containers": sorted(c for c in containers if c in existing),
    }


def batch_leftovers(
    batch: Any,
    blobs: Any,
    pool: str,
    job: str,
    containers: list[str],
    workspace: str,
    nodes_dir: Path,
) -> list[str]:
    left: list[str] = []
    for kind, ident in (("pool", pool), ("job", job)):
        if not eventually(lambda k=kind, i=ident: batch_state(batch, k, i) == "absent"):
            left.append(f"{kind} {ident} ({batch_state(batch, kind, ident)})")
    for p in batch.list_pools():
        if _owned(p.metadata, workspace):
            left.append(f"pool {p.id} tagged with the workspace")
    for j in batch.list_jobs():
        if _owned(j.metadata, workspace):
            left.append(f"job {j.id} tagged with the workspace")
    for c in blobs.list_containers(include_metadata=True):
        if c.name in containers or (c.metadata or {}).get("runner-workspace") == workspace:
            left.append(f"blob container {c.name}")
    if not eventually(lambda: not (nodes_dir / pool).exists()):
        left.append(f"node folder {nodes_dir / pool}")
    return left


def _owned(metadata: Any, workspace: str) -> bool:
    return any(m.name == "runner-workspace" and m.value == workspace for m in metadata or ())


def job_tasks(batch: Any, job: str) -> list[str]:
    """Task ids of ``job`` as listed (duplicates kept); empty when the job is gone."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return sorted(t.id for t in batch.list_tasks(job))
    except ResourceNotFoundError:
        return []


def blob_names(blobs: Any, container: str) -> list[str]:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return sorted(b.name for b in blobs.get_container_client(container).list_blobs())
    except ResourceNotFoundError:
        return []


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, as bytes."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
