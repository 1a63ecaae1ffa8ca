"""What the CLI reads as a spec or a var file: regular files only, and never more than the
size limit, whatever the file system says of their size."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pytest
from runner_cli import runner_without_target

from runner.errors import SpecError
from runner.spec.loader import load_specs

GOOD = """\
kind: ContainerGroup
name: web
resourceGroup: demo
containers: [{name: app, image: "{{ vars.image }}"}]
vars: {image: nginx}
"""
# Far above what the CLI needs to load a spec, far below what reading /dev/zero to the end
# would take: a read without a bound fails under it instead of taking the machine's memory.
ADDRESS_SPACE = 1024 * 1024 * 1024


def _bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _runner(
    cwd: Path, *args: str, stdin: int | None = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    return runner_without_target(cwd, *args, stdin=stdin, preexec_fn=_bounded)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


def _refused(run: subprocess.CompletedProcess[str], what: str) -> None:
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert what in run.stderr, run.stderr


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_named_pipe_as_spec_is_refused_without_waiting_for_a_writer(
    tmp_path: Path, fifo: Path, command: str
) -> None:
    run = _runner(tmp_path, command, fifo.name)
    _refused(run, "error: pipe.yaml is a named pipe (FIFO), not a regular file")
    assert not (tmp_path / "no-target").exists()


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_named_pipe_as_var_file_is_refused_without_waiting_for_a_writer(
    tmp_path: Path, fifo: Path, command: str
) -> None:
    (tmp_path / "web.yaml").write_text(GOOD)
    run = _runner(tmp_path, command, "web.yaml", "--var-file", fifo.name)
    _refused(run, "error: pipe.yaml is a named pipe (FIFO), not a regular file")


def test_a_device_is_refused_before_it_is_read(tmp_path: Path) -> None:
    # /dev/zero reports a size of 0 and never ends.
    run = _runner(tmp_path, "validate", "/dev/zero")
    _refused(run, "error: /dev/zero is a character device, not a regular file")
    run = _runner(tmp_path, "validate", "--var-file", "/dev/zero", "-")
    _refused(run, "error: /dev/zero is a character device, not a regular file")


def test_standard_input_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zeros:
        run = _runner(tmp_path, "validate", "-", stdin=zeros.fileno())
    _refused(run, "<stdin>:1:1: error: file is too large for a spec: over the limit of 512 KB")


def test_a_socket_is_refused_in_the_loader(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "sock.yaml"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(SpecError) as info:
            load_specs([path])
    (problem,) = info.value.diagnostics
    assert problem.summary == f"{path} is a socket, not a regular file"


def test_a_regular_file_is_still_read_whole(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(GOOD)
    (tmp_path / "vars.yaml").write_text("image: busybox\n")
    (loaded,) = load_specs([tmp_path / "web.yaml"], var_files=[tmp_path / "vars.yaml"])
    assert loaded.spec.containers[0].image == "busybox"  # type: ignore[union-attr]


@pytest.mark.parametrize("content", ["", "\n  \n", "# nothing here yet\n"], ids=repr)
def test_an_empty_var_file_sets_no_variables(tmp_path: Path, content: str) -> None:
    (tmp_path / "web.yaml").write_text(GOOD)
    (tmp_path / "vars.yaml").write_text(content)
    (loaded,) = load_specs([tmp_path / "web.yaml"], var_files=[tmp_path / "vars.yaml"])
    assert loaded.spec.containers[0].image == "nginx"  # type: ignore[union-attr]
    run = _runner(tmp_path, "validate", "web.yaml", "--var-file", "vars.yaml")
    assert run.returncode == 0, run.stderr


def test_a_saved_plan_that_is_a_named_pipe_or_a_device_is_refused(
    tmp_path: Path, fifo: Path
) -> None:
    for plan in (fifo.name, "/dev/zero"):
        run = _runner(tmp_path, "apply", "--plan", plan)
        _refused(run, f"error: cannot read saved plan {plan}: {plan} is a ")
        assert "not a regular file" in run.stderr
