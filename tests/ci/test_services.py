""".ci/services.sh chooses and stops Docker engines as promised, run against stand-ins.

Each test sources the real script in a bash whose PATH holds only small shell scripts
standing in for ``docker``, ``dockerd``, ``apt-get``, ``id`` and ``chromium``, plus the
plain tools the script uses: no real engine, package manager, browser or Azurite is
reached. The stand-in client answers ``version`` for each DOCKER_HOST listed in
``$FAKE/answering`` and has the busybox image while ``$FAKE/image`` exists, the tools image
while ``$FAKE/tools-image`` does; the stand-in dockerd adds its ``-H`` there, records its
pid and sleeps until stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from session_cleanup import running

SERVICES = Path(__file__).resolve().parents[2] / ".ci" / "services.sh"
BASH = shutil.which("bash")
TOOLS = [
    "mkdir",
    "cat",
    "seq",
    "sleep",
    "rm",
    "cp",
    "ln",
    "tar",
    "tail",
    "grep",
    "ldd",
    "sh",
    "touch",
    "printenv",
]

FAKES = {
    "docker": r"""#!/bin/sh
echo "${DOCKER_HOST:-} $*" >>"$FAKE/docker.log"
for last; do :; done
case "$1 $last" in
  "version "*) grep -qxF -- "${DOCKER_HOST:-}" "$FAKE/answering" 2>/dev/null ;;
  "image runner-test/tools:1") [ -e "$FAKE/tools-image" ] ;;
  "image "*) [ -e "$FAKE/image" ] ;;
  "import runner-test/tools:1") cat >"$FAKE/tools-import.tar" && touch "$FAKE/tools-image" ;;
  "import "*) cat >"$FAKE/import.tar" && touch "$FAKE/image" ;;
  *) exit 1 ;;
esac
""",
    "dockerd": r"""#!/bin/sh
host=""
prev=""
for arg in "$@"; do
  [ "$prev" = -H ] && host=$arg
  prev=$arg
done
echo $$ >>"$FAKE/dockerd.pids"
echo "$host" >>"$FAKE/answering"
exec sleep 300
""",
    "apt-get": r"""#!/bin/sh
echo "$*" >>"$FAKE/apt.log"
for package in "$@"; do
  [ -d "$FAKE/packages/$package" ] && cp "$FAKE/packages/$package"/* "$FAKE/bin/"
done
exit 0
""",
    "id": r"""#!/bin/sh
echo "$FAKE_UID"
""",
    "busybox": r"""#!/bin/sh
[ "$1" = --list ] && printf 'busybox\nsh\nls\n'
""",
    "chromium": "#!/bin/sh\nexit 0\n",
}
AZURITE = """#!/bin/sh
echo 3.35.0
"""


@dataclass
class Machine:
    """A temporary machine: stand-ins on PATH, CI_ROOT and Azurite under ``root``."""

    root: Path
    uid: int = 1000
    docker_host: str | None = None
    answering: list[str] = field(default_factory=list)

    @property
    def fake(self) -> Path:
        return self.root / "fake"

    @property
    def ci_root(self) -> Path:
        return self.root / "ci"

    def without(self, *names: str) -> None:
        for name in names:
            (self.fake / "bin" / name).unlink()

    def lines(self, name: str) -> list[str]:
        path = self.fake / name
        return path.read_text().splitlines() if path.exists() else []

    def source(self, then: str = "") -> subprocess.CompletedProcess[str]:
        """bash sourcing .ci/services.sh, then running ``then``, until that bash exits."""
        (self.fake / "answering").write_text("".join(f"{host}\n" for host in self.answering))
        env = {
            "PATH": f"{self.fake / 'bin'}:{self.root / 'tools'}",
            "HOME": str(self.root / "home"),
            "CI_ROOT": str(self.ci_root),
            "AZURITE_DIR": str(self.root / "azurite"),
            "FAKE": str(self.fake),
            "FAKE_UID": str(self.uid),
        }
        if self.docker_host is not None:
            env["DOCKER_HOST"] = self.docker_host
        script = f'source "$1"\necho "exported DOCKER_HOST=$(printenv DOCKER_HOST)"\n{then}'
        assert BASH is not None
        return subprocess.run(
            [BASH, "-c", script, "bash", str(SERVICES)],
            env=env,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def dockerd_pids(self) -> list[int]:
        return [int(line) for line in self.lines("dockerd.pids")]


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    if BASH is None:
        pytest.skip("bash is not installed")
    made = Machine(tmp_path)
    bin_dir, tools = made.fake / "bin", tmp_path / "tools"
    for folder in (bin_dir, tools, tmp_path / "home", made.root / "azurite/node_modules/.bin"):
        folder.mkdir(parents=True)
    for name, text in FAKES.items():
        _script(bin_dir / name, text)
    _script(made.root / "azurite/node_modules/.bin/azurite-blob", AZURITE)
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    # The test images are on the engine unless a test says not.
    (made.fake / "image").touch()
    (made.fake / "tools-image").touch()
    yield made
    for pid in made.dockerd_pids():
        if running(pid):
            os.kill(pid, signal.SIGKILL)


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def _exported(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [line for line in run.stdout.splitlines() if line.startswith("exported ")]
    return lines[0].removeprefix("exported DOCKER_HOST=")


def test_an_engine_at_docker_host_is_used_without_root_and_no_dockerd_is_started(
    machine: Machine,
) -> None:
    machine.docker_host = "unix:///home/dev/.docker/run/docker.sock"
    machine.answering = [machine.docker_host]

    run = machine.source()

    assert _exported(run) == machine.docker_host
    assert machine.dockerd_pids() == [], "a dockerd was started although an engine answered"
    assert machine.lines("apt.log") == []


def test_the_default_socket_is_used_and_exported_when_docker_host_is_unset(
    machine: Machine,
) -> None:
    machine.uid = 0
    machine.answering = ["unix:///var/run/docker.sock"]

    run = machine.source()

    assert _exported(run) == "unix:///var/run/docker.sock"
    assert machine.dockerd_pids() == []
    assert machine.lines("apt.log") == [], "apt ran although nothing was missing"


def test_a_dockerd_it_started_is_stopped_when_the_shell_ends(machine: Machine) -> None:
    machine.uid = 0

    run = machine.source(then='kill -0 "$(cat "$FAKE/dockerd.pids")" && echo "dockerd runs"')

    assert _exported(run) == f"unix://{machine.ci_root}/docker.sock"
    assert "dockerd runs" in run.stdout
    [pid] = machine.dockerd_pids()
    assert not running(pid), "the dockerd it started still runs after the shell ended"


def test_a_dockerd_it_did_not_start_is_left_running(machine: Machine) -> None:
    earlier = subprocess.Popen(["sleep", "60"])  # an engine an earlier run left under CI_ROOT
    try:
        machine.ci_root.mkdir()
        (machine.ci_root / "docker.pid").write_text(f"{earlier.pid}\n")
        machine.answering = [f"unix://{machine.ci_root}/docker.sock"]
        machine.uid = 0

        run = machine.source()

        assert _exported(run) == f"unix://{machine.ci_root}/docker.sock"
        assert earlier.poll() is None, "an engine it did not start was stopped"
        assert machine.dockerd_pids() == []
    finally:
        earlier.kill()
        earlier.wait()


def test_without_root_missing_packages_are_named_not_installed(machine: Machine) -> None:
    machine.without("docker")

    run = machine.source()

    assert run.returncode != 0
    assert "install docker.io" in run.stderr
    assert machine.lines("apt.log") == []


def test_as_root_only_what_is_missing_is_installed(machine: Machine) -> None:
    machine.uid = 0
    machine.without("dockerd")
    package = machine.fake / "packages" / "docker.io"
    package.mkdir(parents=True)
    _script(package / "dockerd", FAKES["dockerd"])

    run = machine.source()

    assert _exported(run) == f"unix://{machine.ci_root}/docker.sock"
    installs = [line for line in machine.lines("apt.log") if line.startswith("install")]
    assert installs == ["install -y -qq docker.io"]
    assert len(machine.dockerd_pids()) == 1


def test_the_test_image_is_imported_without_root(machine: Machine) -> None:
    machine.docker_host = "unix:///home/dev/docker.sock"
    machine.answering = [machine.docker_host]
    (machine.fake / "image").unlink()

    run = machine.source()

    assert _exported(run) == machine.docker_host
    imports = [line for line in machine.lines("docker.log") if " import " in line]
    assert imports == [f'{machine.docker_host} import -c CMD ["/bin/sh"] - runner-test/busybox:1']
    with tarfile.open(machine.fake / "import.tar") as image:
        members = {member.name: member for member in image.getmembers()}
    assert members["./bin/sh"].issym() and members["./bin/sh"].linkname == "busybox"
    assert members["./bin/busybox"].isfile() and "./etc/passwd" in members
    assert machine.lines("apt.log") == []


def test_without_busybox_and_root_it_says_what_to_install(machine: Machine) -> None:
    machine.docker_host = "unix:///home/dev/docker.sock"
    machine.answering = [machine.docker_host]
    machine.without("busybox")
    (machine.fake / "image").unlink()

    run = machine.source()

    assert run.returncode != 0
    assert "install busybox-static" in run.stderr
    assert machine.lines("apt.log") == []


def test_a_dockerd_that_does_not_start_fails_the_run_with_its_log(machine: Machine) -> None:
    machine.uid = 0
    _script(machine.fake / "bin" / "dockerd", '#!/bin/sh\necho "no $4 here" >&2\nexit 1\n')

    run = machine.source()

    assert run.returncode != 0
    assert "dockerd did not start" in run.stderr
    assert "no --storage-driver=vfs here" in run.stderr, run.stderr


def test_as_root_a_missing_chromium_is_installed_without_its_recommends(machine: Machine) -> None:
    machine.uid = 0
    machine.answering = ["unix:///var/run/docker.sock"]
    machine.without("chromium")
    package = machine.fake / "packages" / "chromium"
    package.mkdir(parents=True)
    _script(package / "chromium", FAKES["chromium"])

    run = machine.source(then='echo "chromium=$RUNNER_CHROMIUM"')

    assert run.returncode == 0, run.stdout + run.stderr
    installs = [line for line in machine.lines("apt.log") if line.startswith("install")]
    assert installs == ["install -y -qq --no-install-recommends chromium"]
    assert f"chromium={machine.fake / 'bin' / 'chromium'}" in run.stdout


def test_without_chromium_and_root_it_says_what_to_install(machine: Machine) -> None:
    machine.answering = ["unix:///var/run/docker.sock"]
    machine.without("chromium")

    run = machine.source()

    assert run.returncode != 0
    assert "install chromium" in run.stderr
    assert machine.lines("apt.log") == []


def test_the_tools_image_is_busybox_and_this_machines_curl_with_its_libraries(
    machine: Machine,
) -> None:
    # A dynamic executable stands in for curl: its libraries are the ones to be copied.
    dynamic = shutil.which("cat")
    assert dynamic is not None
    (machine.fake / "bin" / "curl").symlink_to(dynamic)
    loads = subprocess.run(["ldd", dynamic], capture_output=True, text=True).stdout.split()
    libraries = [word for word in loads if word.startswith("/")]
    machine.answering = ["unix:///var/run/docker.sock"]
    (machine.fake / "tools-image").unlink()

    run = machine.source(then='echo "tools=$RUNNER_TEST_TOOLS_IMAGE"')

    assert run.returncode == 0, run.stdout + run.stderr
    assert "tools=runner-test/tools:1" in run.stdout
    imports = [line for line in machine.lines("docker.log") if " import " in line]
    assert imports == [
        'unix:///var/run/docker.sock import -c CMD ["/bin/sh"] - runner-test/tools:1'
    ]
    with tarfile.open(machine.fake / "tools-import.tar") as image:
        members = {member.name: member for member in image.getmembers()}
    assert members["./usr/bin/curl"].isfile()
    assert members["./bin/sh"].issym() and members["./bin/busybox"].isfile()
    assert libraries, f"ldd found no libraries of {dynamic}"
    for library in libraries:
        assert members[f".{library}"].isfile(), f"{library} is not in the image"
    assert machine.lines("apt.log") == []


def test_as_root_a_missing_curl_is_installed_for_the_tools_image(machine: Machine) -> None:
    machine.uid = 0
    machine.answering = ["unix:///var/run/docker.sock"]
    (machine.fake / "tools-image").unlink()
    package = machine.fake / "packages" / "curl"
    package.mkdir(parents=True)
    _script(package / "curl", "#!/bin/sh\nexit 0\n")

    run = machine.source()

    assert run.returncode == 0, run.stdout + run.stderr
    installs = [line for line in machine.lines("apt.log") if line.startswith("install")]
    assert installs == ["install -y -qq curl"]
    assert (machine.fake / "tools-image").exists()
