"""Text that is not a template: ``az container create --file`` documents are read literally,
as ``az`` reads them, and native specs say how to keep shell text as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.spec.loader import load_specs, load_text
from runner.spec.models import BatchJob, ContainerGroup
from runner.spec.templates import render_task_template

SHELL = "T=abc; echo ${#T} {{ x }} {# not a comment {% raw %} $((1+2))"

AZ = """\
apiVersion: 2019-12-01
type: Microsoft.ContainerInstance/containerGroups
name: literal
location: westeurope
properties:
  osType: Linux
  restartPolicy: Never
  containers:
    - name: sh
      properties:
        image: busybox
        command: ["/bin/sh", "-c", {command}]
        resources: {{requests: {{cpu: 1, memoryInGb: 0.5}}}}
        environmentVariables:
          - {{name: GREETING, value: "{{{{ hello }}}}"}}
          - {{name: TOKEN, secureValue: "${{#SECRET}}"}}
"""

NATIVE = """\
kind: ContainerGroup
name: native
resourceGroup: demo
restartPolicy: Never
containers:
  - name: sh
    image: "{{ vars.image }}"
    command: ["/bin/sh", "-c", "echo {{ vars.word }}"]
vars: {image: busybox, word: rendered}
"""


def _az(command: str = SHELL) -> str:
    return AZ.format(command=_quoted(command))


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _group(text: str, name: str = "spec.yaml") -> list[ContainerGroup]:
    groups = [loaded.spec for loaded in load_text(text, name)]
    assert all(isinstance(g, ContainerGroup) for g in groups)
    return [g for g in groups if isinstance(g, ContainerGroup)]


def _error(text: str) -> str:
    with pytest.raises(SpecError) as info:
        load_text(text, "spec.yaml")
    (d,) = info.value.diagnostics
    return d.summary


def test_az_file_command_and_values_are_read_as_written() -> None:
    (group,) = _group(_az())
    (container,) = group.containers
    assert container.command == ["/bin/sh", "-c", SHELL]
    assert container.env == {"GREETING": "{{ hello }}"}
    assert container.secure_env == {"TOKEN": "${#SECRET}"}


def test_az_file_keeps_its_quirks_when_read_literally() -> None:
    (group,) = _group(_az())
    assert group.containers[0].memory_in_gb == 0.5  # memoryInGb, as az accepts it
    assert (group.name, group.resource_group) == ("literal", "runner-aci")


def test_az_file_with_vars_is_told_it_has_none() -> None:
    message = _error(_az() + "vars: {x: 1}\n")
    assert "read literally" in message
    assert "--var resourceGroup=NAME" in message


def test_each_document_of_a_file_is_templated_by_its_own_kind() -> None:
    native, az = _group(NATIVE + "---\n" + _az(), "mixed.yaml")
    assert native.containers[0].command == ["/bin/sh", "-c", "echo rendered"]
    assert native.containers[0].image == "busybox"
    assert az.containers[0].command == ["/bin/sh", "-c", SHELL]
    first_az, second_native = _group(_az() + "---\n" + NATIVE, "mixed.yaml")
    assert first_az.containers[0].command == ["/bin/sh", "-c", SHELL]
    assert second_native.containers[0].command == ["/bin/sh", "-c", "echo rendered"]


def test_var_given_only_to_az_files_is_refused(tmp_path: Path) -> None:
    az = tmp_path / "az.yaml"
    az.write_text(_az())
    with pytest.raises(SpecError) as info:
        load_specs([az], variables={"x": "1", "resourceGroup": "rg"})
    (d,) = info.value.diagnostics
    assert d.span is None
    assert d.summary.startswith("--var x is not used:")
    assert "read literally" in d.summary


def test_var_is_fine_when_a_native_spec_is_given_too(tmp_path: Path) -> None:
    (tmp_path / "az.yaml").write_text(_az())
    (tmp_path / "native.yaml").write_text(NATIVE)
    groups = [s.spec for s in load_specs([tmp_path], variables={"word": "from-cli"})]
    commands = {g.name: g.containers[0].command for g in groups if isinstance(g, ContainerGroup)}
    assert commands == {
        "literal": ["/bin/sh", "-c", SHELL],
        "native": ["/bin/sh", "-c", "echo from-cli"],
    }


def test_resource_group_var_and_var_files_are_fine_with_az_files(tmp_path: Path) -> None:
    az = tmp_path / "az.yaml"
    az.write_text(_az())
    shared = tmp_path / "vars.yaml"
    shared.write_text("resourceGroup: from-file\nimage: used-by-other-specs\n")
    (loaded,) = load_specs([az], variables={"resourceGroup": "rg"}, var_files=[shared])
    assert isinstance(loaded.spec, ContainerGroup)
    assert loaded.spec.resource_group == "rg"
    (from_file,) = load_specs([az], var_files=[shared])
    assert isinstance(from_file.spec, ContainerGroup)
    assert from_file.spec.resource_group == "from-file"


def test_validate_reads_an_az_file_literally_and_refuses_a_var_for_it(tmp_path: Path) -> None:
    (tmp_path / "az.yaml").write_text(_az())

    def validate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "runner", "validate", "az.yaml", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )

    ok = validate("--var", "resourceGroup=rg")
    assert ok.returncode == 0, ok.stderr
    assert "ok  az.yaml: ContainerGroup literal (1 container, resource group rg" in ok.stdout
    refused = validate("--var", "image=nginx")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: --var image is not used:"), refused.stderr


@pytest.mark.parametrize(
    ("written", "shell"),
    [
        ("T=abc; echo ${{ '{#' }}T}", "T=abc; echo ${#T}"),
        ("{% raw %}T=abc; echo ${#T} {{ x }}{% endraw %}", "T=abc; echo ${#T} {{ x }}"),
        ("echo {{ '{{' }} x }}", "echo {{ x }}"),
        ("echo {{ '{%' }} x %}", "echo {% x %}"),
    ],
)
def test_advised_escapes_keep_shell_text_in_native_specs(written: str, shell: str) -> None:
    text = NATIVE.replace('"echo {{ vars.word }}"', _quoted(written))
    (group,) = _group(text)
    assert group.containers[0].command == ["/bin/sh", "-c", shell]


BATCH = """\
kind: BatchJob
name: words
pool:
  id: words-pool
  startTask: {{command: {start}}}
job: {{id: words-job}}
tasks:
  forEachFile: "*.txt"
  id: "t-{{{{ file.stem }}}}"
  command: {task}
collect: {{dir: out/words}}
"""


@pytest.mark.parametrize(
    ("written", "shell"),
    [
        ("N=ab; echo ${{ '{#' }}N}", "N=ab; echo ${#N}"),
        ("{% raw %}N=ab; echo ${#N}{% endraw %}", "N=ab; echo ${#N}"),
        ("docker inspect -f '{{ '{{' }}.State}}'", "docker inspect -f '{{.State}}'"),
    ],
)
def test_advised_escapes_keep_shell_text_in_batch_commands(written: str, shell: str) -> None:
    task = f"{written} {{{{ file.name }}}}"
    text = BATCH.format(start=_quoted(written), task=_quoted(task))
    (loaded,) = load_text(text, "job.yaml")
    spec = loaded.spec
    assert isinstance(spec, BatchJob)
    assert spec.pool.start_task is not None
    assert spec.pool.start_task.command == shell
    command = render_task_template(spec.tasks.command, Path("a.txt"), spec.vars)
    assert command == f"{shell} a.txt"


@pytest.mark.parametrize(
    ("command", "block", "escaped"),
    [
        ("T=abc; echo ${#T}", "${#T}", "${{ '{#' }}T}"),
        ("echo {{ x }}", "{{ x }}", "{{ '{{' }} x }}"),
        ("echo ${{ secrets.X }}", "${{ secrets.X }}", "${{ '{{' }} secrets.X }}"),
        ("echo {% x", "{%", "{{ '{%' }}"),
    ],
)
def test_template_error_in_shell_text_says_how_to_keep_it(
    command: str, block: str, escaped: str
) -> None:
    text = NATIVE.replace('"echo {{ vars.word }}"', _quoted(command))
    message = _error(text)
    advice = (
        f"to keep {block} as written, write {escaped} "
        "or wrap the text in {% raw %}...{% endraw %}"
    )
    assert message.endswith(advice), message
    escaped_command = command.replace(block, escaped)
    (group,) = _group(text.replace(_quoted(command), _quoted(escaped_command)))
    assert group.containers[0].command == ["/bin/sh", "-c", command]


def test_template_errors_outside_shell_text_give_no_shell_advice() -> None:
    assert "raw" not in _error(NATIVE.replace('"{{ vars.image }}"', '"{{ x }}"'))
    assert "raw" not in _error(NATIVE.replace("{{ vars.word }}", "{{ vars.missing }}"))
