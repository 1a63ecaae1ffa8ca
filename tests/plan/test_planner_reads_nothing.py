"""The planner is pure (DESIGN.md, layers): no module of ``runner.plan`` imports a module
that reaches the file system, processes or the network, or calls a ``Path`` method that
reads the disk. Local files come in as data, read by ``engine/inputs.py``."""

from __future__ import annotations

import ast
from pathlib import Path

import runner.plan

PLAN_DIR = Path(runner.plan.__file__).parent
IO_MODULES = {"glob", "os", "io", "shutil", "importlib", "subprocess", "socket", "tempfile"}
IO_CALLS = {
    "open", "read_text", "read_bytes", "write_text", "write_bytes", "is_file", "is_dir",
    "exists", "glob", "rglob", "iterdir", "stat", "resolve", "find_spec",
}  # fmt: skip


def _io_in(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in IO_CALLS:
                found.append(f"{path.name}:{node.lineno} calls {name}()")
            continue
        else:
            continue
        found += [
            f"{path.name}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in IO_MODULES
        ]
    return found


def test_no_plan_module_touches_the_disk() -> None:
    modules = sorted(PLAN_DIR.glob("*.py"))
    assert len(modules) > 5
    assert [problem for m in modules for problem in _io_in(m)] == []


def test_the_check_sees_file_reads(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import glob\nfrom pathlib import Path\nPath('x').read_bytes()\n")
    assert _io_in(sample) == ["sample.py:1 imports glob", "sample.py:3 calls read_bytes()"]
