"""Files too big or not text at all: made at run time, never committed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.spec.loader import load_specs, load_text


def _validate(name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runner", "validate", name],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def _first_header(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_specs([path.name])
    d = info.value.diagnostics[0]
    assert d.span is not None
    return f"{d.span}: {d.summary}"


def test_fifty_megabyte_file_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "huge.yaml"
    header = b"kind: ContainerGroup\n"
    line = b"# " + b"x" * 1021 + b"\n"
    with big.open("wb") as f:
        f.write(header)
        for _ in range(50 * 1024 - 1):
            f.write(line)
        f.write(b"#" * (1024 - len(header) - 1) + b"\n")
    assert big.stat().st_size == 50 * 1024 * 1024
    monkeypatch.chdir(tmp_path)
    assert _first_header(big) == (
        "huge.yaml:1:1: file is too large for a spec: 50.0 MB (the limit is 512 KB)"
    )
    result = _validate("huge.yaml", tmp_path)
    assert result.returncode == 1
    assert "huge.yaml:1:1: error: file is too large for a spec" in result.stderr
    assert "Traceback" not in result.stderr
    big.unlink()  # pytest keeps recent temporary folders: do not leave 50 MB behind


def test_binary_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "image.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    monkeypatch.chdir(tmp_path)
    assert _first_header(binary) == (
        "image.yaml:3:1: file is binary (it holds NUL bytes), not a YAML spec"
    )
    result = _validate("image.yaml", tmp_path)
    assert result.returncode == 1
    assert "image.yaml:3:1: error: file is binary" in result.stderr
    assert "Traceback" not in result.stderr


def test_non_utf8_text_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("kind: ContainerGroup\nname: caf\u00e9\n".encode("latin-1"))
    monkeypatch.chdir(tmp_path)
    assert _first_header(latin) == (
        "latin1.yaml:2:10: file is not UTF-8 text (byte 0xe9 is invalid)"
    )
    result = _validate("latin1.yaml", tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


def test_byte_order_mark_is_accepted() -> None:
    text = "\ufeffkind: ContainerGroup\nname: web\nresourceGroup: rg\n"
    text += "containers: [{name: app, image: nginx}]\n"
    (loaded,) = load_text(text.encode("utf-8"), "bom.yaml")
    assert loaded.spec.name == "web"


def test_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = _validate("nowhere.yaml", tmp_path)
    assert result.returncode == 1
    assert "error: no such file: nowhere.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_control_character_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    odd = tmp_path / "odd.yaml"
    odd.write_bytes(b"kind: ContainerGroup\nname: we\x01b\n")
    monkeypatch.chdir(tmp_path)
    assert _first_header(odd) == (
        "odd.yaml:2:9: character U+0001 is not allowed in YAML (control characters are refused)"
    )


def test_stdin_is_read_when_the_path_is_a_dash(tmp_path: Path) -> None:
    spec = "kind: ContainerGroup\nname: web\nresourceGroup: rg\ncontainers: [{name: a, image: b}]\n"
    ok = subprocess.run(
        [sys.executable, "-m", "runner", "validate", "-"],
        input=spec,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("ok  <stdin>: ContainerGroup web")
    bad = subprocess.run(
        [sys.executable, "-m", "runner", "validate", "-"],
        input=spec.replace("web", "Web"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("<stdin>:2:7: error: container group names")
