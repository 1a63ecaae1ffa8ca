"""Valid specs: the examples in specs/, variables and their precedence, the az file format."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.spec.loader import expand_paths, load_specs, load_text
from runner.spec.models import BatchJob, ContainerGroup
from runner.spec.templates import render_task_template

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def _one(text: str, **variables: str) -> ContainerGroup | BatchJob:
    (loaded,) = load_text(text, "spec.yaml", variables)
    return loaded.spec


def test_every_example_spec_validates() -> None:
    loaded = load_specs([SPECS])
    names = {(type(s.spec).__name__, s.spec.name) for s in loaded}
    assert names == {
        ("ContainerGroup", "aci-hello"),
        ("ContainerGroup", "aci-sidecar"),
        ("ContainerGroup", "aci-wordcount"),
        ("ContainerGroup", "aci-tutorial-multi"),
        ("BatchJob", "topwords"),
        ("BatchJob", "topwords-corpus"),
        ("BatchJob", "topwords-container"),
        ("Workflow", "topwords-workflow"),
    }


def test_validate_command_exits_zero_with_a_line_per_spec() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "runner", "validate", "specs/"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("ok  specs/") for line in lines) == 8
    assert lines[-1] == "8 specs in 8 files: valid"
    (corpus,) = [line for line in lines if "topwords-corpus.yaml" in line]
    assert corpus.endswith("one task per file in topwords/*.txt, then merge task topwords-total)")


@pytest.mark.parametrize("path", expand_paths([SPECS]), ids=lambda p: p.stem)
def test_example_spec_starts_with_a_schema_line_that_resolves(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = SCHEMA_LINE.match(first)
    assert match, first
    assert (path.parent / match.group(1)).resolve() == ROOT / "schemas" / "runner.schema.json"


def test_sample_shapes() -> None:
    by_name = {s.spec.name: s.spec for s in load_specs([SPECS])}
    hello = by_name["aci-hello"]
    assert isinstance(hello, ContainerGroup)
    assert hello.ip_address is not None and hello.ip_address.type == "Public"
    assert hello.ip_address.dns_name_label == "runner-aci-hello"
    assert [p.port for p in hello.containers[0].ports] == [80]
    assert hello.containers[0].image == "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
    sidecar = by_name["aci-sidecar"]
    assert isinstance(sidecar, ContainerGroup)
    assert [c.name for c in sidecar.containers] == ["app", "sidecar"]
    task = by_name["aci-wordcount"]
    assert isinstance(task, ContainerGroup)
    assert task.restart_policy == "Never" and task.teardown == "onSuccess"
    assert task.containers[0].command == [
        "python",
        "wordcount.py",
        "http://shakespeare.mit.edu/romeo_juliet/full.html",
    ]
    assert task.containers[0].env == {"NumWords": "5", "MinLength": "8"}
    assert task.collect is not None and task.collect_dir == "out/aci-wordcount"


def test_topwords_keeps_file_templates_and_renders_vars() -> None:
    (loaded,) = load_specs([SPECS / "topwords.yaml"], variables={"top": "10"})
    spec = loaded.spec
    assert isinstance(spec, BatchJob)
    assert spec.tasks.for_each_file == "topwords/*.txt"
    assert spec.tasks.id == "topwords-{{ file.stem }}"
    assert spec.tasks.command == (
        "python3 $AZ_BATCH_NODE_SHARED_DIR/topwords.py --filepath {{ file.name }} "
        "--numwords 10 --output {{ file.stem }}_OUTPUT.txt"
    )
    assert spec.tasks.outputs == ["{{ file.stem }}_OUTPUT.txt"]
    assert spec.collect.dir == "out/topwords"
    assert spec.timeout.total_seconds() == 20 * 60
    assert spec.pool.start_task is not None
    assert spec.pool.start_task.copy_ == ["package:runner/jobs/topwords.py"]
    assert loaded.base_dir == SPECS
    inputs = sorted(loaded.base_dir.glob(spec.tasks.for_each_file))
    assert len(inputs) == 4
    assert all(2_000 <= p.stat().st_size <= 8_000 for p in inputs)
    command = render_task_template(spec.tasks.command, inputs[0], spec.vars)
    assert f"--filepath {inputs[0].name} --numwords 10 --output {inputs[0].stem}_OUTPUT.txt" in (
        command
    )


BATCH = """
kind: BatchJob
name: tw
pool: {id: tw-pool}
job: {id: tw-job}
tasks: {forEachFile: "*.txt", id: "t-{{ file.stem }}", command: "true"}
collect: {dir: out}
"""


@pytest.mark.parametrize(
    ("teardown", "containers"),
    [
        ("", "onSuccess"),
        ("teardown: {job: never}", "never"),
        ("teardown: {job: onSuccess}", "onSuccess"),
        ("teardown: {job: never, pool: always}", "never"),
        ("teardown: {job: onSuccess, containers: never}", "never"),
    ],
)
def test_batch_containers_are_kept_as_long_as_the_job(teardown: str, containers: str) -> None:
    spec = _one(BATCH + teardown)
    assert isinstance(spec, BatchJob)
    assert spec.teardown.containers == containers


def test_render_task_template_reports_bad_templates_as_value_error() -> None:
    with pytest.raises(ValueError, match="file has no attribute 'size'"):
        render_task_template("{{ file.size }}", Path("a.txt"), {})
    assert render_task_template("{{ file.suffix }}|{{ file.path }}", Path("d/a.txt"), {}) == (
        ".txt|d/a.txt"
    )


GROUP = """\
kind: ContainerGroup
name: "{{ vars.name }}"
resourceGroup: "{{ env('RUNNER_TEST_RG', 'rg-default') }}"
containers:
  - name: app
    image: "{{ vars.image }}"
    env: {NumWords: 5, Ratio: 1.5}
vars:
  name: from-spec
  image: from-spec
"""


def test_vars_precedence_spec_then_var_files_then_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "group.yaml"
    spec.write_text(GROUP)
    first = tmp_path / "first.yaml"
    first.write_text("name: from-first\nimage: from-first\n")
    second = tmp_path / "second.yaml"
    second.write_text("image: from-second\n")
    monkeypatch.delenv("RUNNER_TEST_RG", raising=False)

    (plain,) = load_specs([spec])
    assert isinstance(plain.spec, ContainerGroup)
    assert (plain.spec.name, plain.spec.containers[0].image) == ("from-spec", "from-spec")
    assert plain.spec.resource_group == "rg-default"

    (files,) = load_specs([spec], var_files=[first, second])
    assert isinstance(files.spec, ContainerGroup)
    assert (files.spec.name, files.spec.containers[0].image) == ("from-first", "from-second")

    (cli,) = load_specs([spec], variables={"image": "from-cli"}, var_files=[first, second])
    assert isinstance(cli.spec, ContainerGroup)
    assert (cli.spec.name, cli.spec.containers[0].image) == ("from-first", "from-cli")
    assert cli.spec.vars == {"name": "from-first", "image": "from-cli"}


def test_env_function_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_TEST_RG", "rg-from-env")
    spec = _one(GROUP)
    assert isinstance(spec, ContainerGroup)
    assert spec.resource_group == "rg-from-env"


def test_numbers_in_env_become_strings() -> None:
    spec = _one(GROUP)
    assert isinstance(spec, ContainerGroup)
    assert spec.containers[0].env == {"NumWords": "5", "Ratio": "1.5"}


def test_bad_var_file_is_located(tmp_path: Path) -> None:
    spec = tmp_path / "group.yaml"
    spec.write_text(GROUP)
    bad = tmp_path / "vars.yaml"
    bad.write_text("image: a\nimage: b\n")
    with pytest.raises(SpecError) as info:
        load_specs([spec], var_files=[bad])
    (d,) = info.value.diagnostics
    assert d.span is not None
    assert (d.span.file, d.span.line, d.span.col) == (str(bad), 2, 1)
    assert "duplicate key 'image'" in d.summary


def test_several_documents_load_with_their_index() -> None:
    text = GROUP + "---\n" + GROUP.replace("from-spec", "second")
    loaded = load_text(text, "two.yaml")
    assert [(s.index, s.spec.name) for s in loaded] == [(0, "from-spec"), (1, "second")]


def test_folders_are_searched_recursively_for_yaml(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.yml").write_text(GROUP)
    (tmp_path / "two.yaml").write_text(GROUP.replace("from-spec", "two"))
    (tmp_path / "notes.txt").write_text("not a spec")
    loaded = load_specs([tmp_path])
    assert sorted(s.spec.name for s in loaded) == ["from-spec", "two"]


def test_duplicate_names_across_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GROUP)
    (tmp_path / "b.yaml").write_text(GROUP)
    with pytest.raises(SpecError) as info:
        load_specs([tmp_path])
    (d,) = info.value.diagnostics
    assert d.span is not None and d.span.file.endswith("b.yaml")
    assert "already defined" in d.summary


AZ = """\
apiVersion: 2019-12-01
location: eastus
name: web
properties:
  containers:
    - name: app
      properties:
        image: nginx
        command: [nginx, -g, daemon off;]
        resources:
          requests:
            cpu: 1
            {memory}: 1.5
        ports: [{{port: 80}}]
        environmentVariables:
          - {{name: MODE, value: fast}}
          - {{name: TOKEN, secureValue: s3cret}}
  osType: linux
  restartPolicy: OnFailure
  ipAddress:
    type: public
    dnsNameLabel: my-web
    ports: [{{protocol: tcp, port: 80}}]
tags: {{team: docs}}
type: Microsoft.ContainerInstance/containerGroups
"""


@pytest.mark.parametrize("memory_key", ["memoryInGB", "memoryInGb"])
def test_az_file_format_is_read_into_a_container_group(memory_key: str) -> None:
    spec = _one(AZ.format(memory=memory_key))
    assert isinstance(spec, ContainerGroup)
    assert (spec.name, spec.location, spec.resource_group) == ("web", "eastus", "runner-aci")
    assert (spec.os_type, spec.restart_policy) == ("Linux", "OnFailure")
    (container,) = spec.containers
    assert (container.cpu, container.memory_in_gb) == (1.0, 1.5)
    assert container.command == ["nginx", "-g", "daemon off;"]
    assert container.env == {"MODE": "fast"}
    assert container.secure_env == {"TOKEN": "s3cret"}
    assert spec.ip_address is not None
    assert (spec.ip_address.type, spec.ip_address.dns_name_label) == ("Public", "my-web")
    assert [(p.port, p.protocol) for p in spec.ip_address.ports] == [(80, "TCP")]
    assert spec.tags == {"team": "docs"}


def test_az_file_resource_group_comes_from_a_variable() -> None:
    spec = _one(AZ.format(memory="memoryInGB"), resourceGroup="my-rg")
    assert isinstance(spec, ContainerGroup)
    assert spec.resource_group == "my-rg"


def test_az_file_quoted_api_version_is_accepted_too() -> None:
    text = AZ.format(memory="memoryInGB").replace("2019-12-01", "'2023-05-01'")
    assert _one(text).name == "web"


def test_az_file_errors_point_into_the_az_file() -> None:
    text = AZ.format(memory="memoryInGb").replace("memoryInGb: 1.5", "memoryInGb: 99")
    with pytest.raises(SpecError) as info:
        load_text(text, "az.yaml")
    (d,) = info.value.diagnostics
    assert d.span is not None
    assert (d.span.line, d.span.col) == (13, 25)
    assert d.field_path == "properties.containers[0].properties.resources.requests.memoryInGb"


def test_cli_import_stays_free_of_spec_libraries() -> None:
    code = (
        "import sys, runner.cli; print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('pydantic', 'yaml', 'jinja2', 'rich')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_task_template_with_a_block_over_file_is_kept_whole() -> None:
    text = """\
kind: BatchJob
name: words
pool: {id: words-pool}
job: {id: words-job}
tasks:
  forEachFile: "*.txt"
  id: "t-{{ file.stem }}"
  command: "{% if file.suffix == '.txt' %}wc -w{% else %}cat{% endif %} {{ file.name }}"
collect: {dir: out/words}
vars: {n: 3}
"""
    spec = _one(text)
    assert isinstance(spec, BatchJob)
    assert spec.tasks.command.startswith("{% if file.suffix")
    assert render_task_template(spec.tasks.command, Path("a.txt"), spec.vars) == "wc -w a.txt"
    assert render_task_template(spec.tasks.command, Path("a.md"), spec.vars) == "cat a.md"


def test_loaded_spec_locates_errors_found_after_loading() -> None:
    (loaded,) = load_specs([SPECS / "topwords.yaml"])
    error = loaded.error("matched no files", "tasks.forEachFile")
    (d,) = error.diagnostics
    assert d.span is not None
    text = (SPECS / "topwords.yaml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, t in enumerate(text, 1) if t.lstrip().startswith("forEachFile:"))
    assert (d.span.line, d.span.col) == (line, 16)
    assert d.field_path == "tasks.forEachFile"
    assert str(SPECS / "topwords.yaml") in error.sources


def test_loaded_az_spec_locates_errors_in_the_az_file() -> None:
    (loaded,) = load_text(AZ.format(memory="memoryInGb"), "az.yaml")
    (d,) = loaded.error("too much", "containers[0].memoryInGB").diagnostics
    assert d.span is not None
    assert (d.span.line, d.span.col) == (13, 25)
    assert d.field_path == "properties.containers[0].properties.resources.requests.memoryInGb"


def test_hidden_folders_are_not_searched(tmp_path: Path) -> None:
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "other.yaml").write_text("not: a spec\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.yml").write_text("not: a spec\n")
    (tmp_path / "group.yaml").write_text(GROUP)
    assert expand_paths([tmp_path]) == [tmp_path / "group.yaml"]


def test_template_markers_in_variable_values_are_not_run_twice() -> None:
    text = """\
kind: BatchJob
name: words
pool: {id: words-pool}
job: {id: words-job}
tasks:
  forEachFile: "*.txt"
  id: "t-{{ file.stem }}"
  command: "echo {{ vars.msg }} {{ file.name }}"
collect: {dir: out/words}
"""
    spec = _one(text, msg="{{ 7 * 7 }}")
    assert isinstance(spec, BatchJob)
    assert render_task_template(spec.tasks.command, Path("a.txt"), spec.vars) == (
        "echo {{ 7 * 7 }} a.txt"
    )
