import subprocess
import sys


def test_cli_import_loads_no_azure_sdk() -> None:
    code = (
        "import sys, runner.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'docker', 'rich')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version_flag_prints_version() -> None:
    from runner import __version__

    out = subprocess.run(
        [sys.executable, "-m", "runner", "--version"], capture_output=True, text=True, check=True
    )
    assert __version__ in out.stdout
