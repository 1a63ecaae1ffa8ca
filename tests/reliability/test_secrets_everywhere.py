"""No secret leaves the runner: every command, in every output format, succeeding and
failing, is run with known secrets, and everything it produced is scanned.

Known secrets: a secure environment value (given through ``env()``, and through
``--var``), a Batch job's secret (``job.secrets``, from runner's environment), the Batch
account key, the storage account key, the bearer token the local target's credential
hands out, and any SAS signature (the run makes those). Scanned: the
CLI's stdout and stderr, collected files, a saved plan, ARM tags and groups read back,
Batch pools, jobs and tasks read back (command lines, environment settings, metadata),
blob container metadata, and the emulator's logs and node files under its state folder.

``runner local status --output json`` is the one exception by design: it is how a user
gets the local target's endpoints and keys (the agreed status dict), as ``az storage
account keys list`` is on Azure. Its text form is scanned.
"""

from __future__ import annotations

import os
import secrets as random_tokens
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from secret_scan import SecretScanner
from topwords_helpers import SAMPLES, write_spec

pytestmark = pytest.mark.integration

KEEP_ALL = {"job": "never", "pool": "never", "containers": "never"}
SECRET_ENV = "RUNNER_RELIABILITY_SECRET"
JOB_SECRET_ENV = "RUNNER_RELIABILITY_JOB_SECRET"
REGISTRY_ENV = "RUNNER_RELIABILITY_REGISTRY_PASSWORD"
# ``${#VAR}`` would open a Jinja comment; wc counts the characters instead.
LENGTHS = 'echo "lengths $(printf %s "$TOKEN" | wc -c) $(printf %s "$OTHER" | wc -c)"; exit "$CODE"'


def group_spec(folder: Path, rg: str, name: str, image: str, *, cpu: Any = 1) -> Path:
    """A run-to-completion group holding a secure value from ``env()`` and one from
    ``--var``; it prints their lengths (proof it got them), never the values."""
    doc = {
        "kind": "ContainerGroup",
        "name": name,
        "resourceGroup": rg,
        "restartPolicy": "Never",
        "containers": [
            {
                "name": "main",
                "image": image,
                "cpu": cpu,
                "memoryInGB": 0.5,
                "command": ["sh", "-c", LENGTHS],
                "env": {"CODE": "{{ vars.code }}"},
                "secureEnv": {
                    "TOKEN": f"{{{{ env('{SECRET_ENV}') }}}}",
                    "OTHER": "{{ vars.other }}",
                },
            }
        ],
        "collect": {"logs": True, "dir": f"out/{name}"},
        "teardown": "never",
        "vars": {"code": "0", "other": "none-given"},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def container_job_spec(folder: Path, name: str, image: str) -> Path:
    """A kept job on a pool that logs in to a registry with a password from the
    environment; its tasks run in ``image``."""
    return write_spec(
        folder,
        name,
        texts={"a.txt": "a b\n"},
        teardown=KEEP_ALL,
        pool={
            "image": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2204"},
            "containers": {
                "registries": [
                    {
                        "server": "registry.example.com",
                        "username": "puller",
                        "passwordEnv": REGISTRY_ENV,
                    }
                ]
            },
        },
        tasks={
            "forEachFile": "topwords/*.txt",
            "id": "b-{{ file.stem }}",
            "command": "wc -w {{ file.name }}",
            "outputs": [],
            "container": {"image": image},
        },
    )


def known_secrets(emulator: dict[str, Any], secure: str, other: str) -> dict[str, str]:
    from runner.backends.credentials import StaticTokenCredential

    storage_key = emulator["storage"]["connection_string"].split("AccountKey=")[1].split(";")[0]
    return {
        "secure env value (env())": secure,
        "secure env value (--var)": other,
        "batch account key": emulator["batch"]["key"],
        "storage account key": storage_key,
        "bearer token": StaticTokenCredential().get_token("scope").token,
    }


def test_no_command_leaks_a_secret(
    cli: Any,
    emulator: dict[str, Any],
    test_image: str,
    unique_name: Any,
    aci_client: Any,
    resource_client: Any,
    batch_client: Any,
    blob_service: Any,
    tmp_path: Path,
) -> None:
    every_command_scanned(**locals())


@pytest.mark.chaos
def test_no_command_leaks_a_secret_in_the_full_run(
    cli: Any,
    emulator: dict[str, Any],
    test_image: str,
    unique_name: Any,
    aci_client: Any,
    resource_client: Any,
    batch_client: Any,
    blob_service: Any,
    tmp_path: Path,
) -> None:
    """The same scan in ``-m chaos``, so its figures include the secrets found."""
    every_command_scanned(**locals())


def every_command_scanned(
    cli: Any,
    emulator: dict[str, Any],
    test_image: str,
    unique_name: Any,
    aci_client: Any,
    resource_client: Any,
    batch_client: Any,
    blob_service: Any,
    tmp_path: Path,
) -> None:
    secure = "sv-" + random_tokens.token_urlsafe(24)
    other = "ov-" + random_tokens.token_urlsafe(24)
    registry_password = "rp-" + random_tokens.token_urlsafe(24)
    job_secret = "js-" + random_tokens.token_urlsafe(24)
    cli.env[JOB_SECRET_ENV] = job_secret
    cli.env[SECRET_ENV] = secure
    cli.env[REGISTRY_ENV] = registry_password
    scanner = SecretScanner(
        {
            **known_secrets(emulator, secure, other),
            "registry password": registry_password,
            "Batch job secret": job_secret,
        }
    )
    folder = tmp_path / "specs"
    folder.mkdir()
    rg, name = unique_name("sec-rg"), unique_name("sec")
    group = group_spec(folder, rg, name, test_image)
    job_name = unique_name("sec-tw")
    # Its tasks get a secret of the job: in a file they fetch, never in a Batch definition.
    job = write_spec(
        folder / "job",
        job_name,
        teardown=KEEP_ALL,
        job={"secrets": {"TOKEN": {"fromEnv": JOB_SECRET_ENV}}},
    )
    boxed = container_job_spec(folder / "boxed", unique_name("sec-box"), test_image)
    var = ["--var", f"other={other}"]
    ws = ["--workspace", cli.workspace]
    runs = []

    def run(*args: str, code: int | None = 0) -> Any:
        done = cli(*args)
        if code is not None:
            done.expect(code)
        runs.append(done)
        return done

    def run_all(commands: list[tuple[str, ...]], code: int = 0) -> None:
        with ThreadPoolExecutor(max_workers=4) as pool:
            done = list(pool.map(lambda args: cli(*args), commands))
        for one in done:
            one.expect(code)
        runs.extend(done)

    # Read-only commands, every format; independent, so run side by side.
    reads = [
        (cmd, str(target), *var, *extra)
        for target in (group, job)
        for cmd, extra in (
            ("validate", ()),
            ("validate", ("--output", "json")),
            ("plan", (*ws,)),
            ("plan", (*ws, "--output", "json")),
        )
    ]
    run_all(reads)
    saved = tmp_path / "saved.plan"
    run("plan", str(group), *var, *ws, "-out", str(saved))
    # Apply, in both formats, from the saved plan and from specs.
    # One at a time: both hold the workspace's lock.
    run("apply", "--plan", str(saved), *var, "--yes")
    report = tmp_path / "report.html"
    run("apply", str(job), *ws, "--yes", "--output", "json", "--report", str(report))
    run("report", str(job), *ws, "--output", "json")
    run("plan", str(boxed), *ws)
    run("apply", str(boxed), *ws, "--yes", "--output", "json")
    logs = []
    for fmt in ("text", "json"):
        run_all(
            [
                ("status", str(group), *var, *ws, "--output", fmt),
                ("status", str(job), *ws, "--output", fmt),
                ("status", *ws, "--output", fmt),
                ("logs", str(group), *var, *ws, "--output", fmt),
            ]
        )
        logs.append(runs[-1].out)
    assert any(f"lengths {len(secure)} {len(other)}" in text for text in logs), logs
    run("local", "status")

    # Failing variants: a container that exits non-zero, a spec error in a spec holding
    # secure values, a stale saved plan, a missing secret, a failing Batch task.
    failing = group_spec(folder, rg, unique_name("sec-fail"), test_image)
    run("apply", str(failing), *var, "--var", "code=3", *ws, "--yes", code=1)
    run("apply", str(failing), *var, "--var", "code=3", *ws, "--yes", "-o", "json", code=None)
    bad = group_spec(folder, rg, unique_name("sec-bad"), test_image, cpu=99)
    run_all(
        [
            ("plan", str(bad), *var, *ws),
            ("plan", str(bad), *var, *ws, "--output", "json"),
            ("validate", str(bad), *var, "--output", "json"),
        ],
        code=1,
    )
    run("apply", "--plan", str(saved), *var, "--yes", code=1)  # live state changed since
    unset = dict(cli.env)
    unset.pop(SECRET_ENV)
    runs.append(type(cli)(cli.cwd, cli.workspace, unset)("plan", str(group), *var, *ws))
    failing_job = write_spec(
        folder / "failing-job",
        unique_name("sec-twf"),
        texts={"a.txt": "a b\n"},
        teardown=KEEP_ALL,
        tasks={
            "forEachFile": "topwords/*.txt",
            "id": "f-{{ file.stem }}",
            "command": "env; exit 1",
        },
    )
    run("apply", str(failing_job), *ws, "--yes", code=1)

    # What the runner wrote where Azure keeps it, read back before destroy.
    for cg in aci_client.container_groups.list():
        if (cg.tags or {}).get("runner-workspace") == cli.workspace:
            full = aci_client.container_groups.get(cg.id.split("/")[4], cg.name)
            scanner.scan_object(full.as_dict(), f"container group {cg.name} read back")
    scanner.scan_object(resource_client.resource_groups.get(rg).as_dict(), f"resource group {rg}")
    for spec_path in (job, failing_job, boxed):
        doc = yaml.safe_load(spec_path.read_text())
        # Resource files carry read SAS URLs by design (that is how nodes fetch them):
        # what must hold no secret is the rest, command lines and settings above all.
        pool = batch_client.get_pool(doc["pool"]["id"]).as_dict()
        for resource in pool.get("startTask", {}).pop("resourceFiles", []):
            assert resource.get("filePath")
        scanner.scan_object(pool, f"pool {doc['pool']['id']} read back")
        batch_job = batch_client.get_job(doc["job"]["id"])
        scanner.scan_object(batch_job.as_dict(), f"job {batch_job.id} read back")
        tasks = list(batch_client.list_tasks(doc["job"]["id"]))
        assert tasks
        for task in tasks:
            seen = task.as_dict()
            seen.pop("resourceFiles", None)
            # Output destinations hold the write SAS of the output container by design.
            assert seen.pop("outputFiles", None) is not None
            scanner.scan_object(seen, f"task {task.id} read back")
        for role in ("application", "input", "output"):
            container = blob_service.get_container_client(f"{doc['name']}-{role}")
            scanner.scan_object(container.get_container_properties().metadata, container.url)
    assert len(list(batch_client.list_tasks(f"{job_name}-job"))) == len(SAMPLES)

    run("destroy", str(group), *var, *ws, "--yes")
    run("destroy", *ws, "--yes", "--output", "json")

    for done in runs:
        scanner.scan_text(done.out, f"stdout of runner {' '.join(done.args)}")
        scanner.scan_text(done.err, f"stderr of runner {' '.join(done.args)}")
    scanner.scan_file(saved)
    scanner.scan_file(report)
    scanner.scan_tree(cli.cwd, skip=("specs",))
    assert (cli.cwd / "out" / name / "main.log").exists()
    state = Path(os.environ["RUNNER_LOCAL_DIR"])
    # The store holds secure values as Azure does (it must hand them to containers), the
    # settings and status files hold the target's own keys (``runner local status -o
    # json`` prints them), Azurite's folder holds the uploaded data.
    skip = ("state.sqlite3", "settings.json", "status.json", "azurite", "tls-")
    scanner.scan_tree(state, skip=skip)
    assert any(w.endswith("server.log") for w in scanner.scanned)

    assert scanner.count == 0, scanner.report()
