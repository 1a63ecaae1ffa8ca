"""Reading spec files: size, encoding and emptiness checks before any YAML parsing."""

from __future__ import annotations

from pathlib import Path

from runner.errors import Diagnostic, Span

# Specs are hand-written; anything this large is a mistake (or an attack on the parser).
# The YAML parser that keeps positions is pure Python (about 250 KB/s on deeply keyed
# files), so the limit also bounds how long a refused or accepted file takes: about 2 s.
MAX_SPEC_BYTES = 512 * 1024


class SourceProblem(Exception):
    """A file that cannot be read as a spec at all; carries one diagnostic."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.summary)
        self.diagnostic = diagnostic


def _problem(file: str, message: str, line: int = 1, col: int = 1) -> SourceProblem:
    return SourceProblem(Diagnostic(summary=message, span=Span(file, line, col)))


def read_source(path: Path, display: str | None = None) -> str:
    """Return the text of ``path`` or raise ``SourceProblem`` saying why it is not a spec."""
    name = display or str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SourceProblem(Diagnostic(summary=f"no such file: {name}")) from None
    except OSError as exc:
        raise SourceProblem(Diagnostic(summary=f"cannot read {name}: {exc.strerror}")) from None
    if path.is_dir():
        raise SourceProblem(Diagnostic(summary=f"{name} is a folder, not a spec file"))
    if size > MAX_SPEC_BYTES:
        raise _problem(
            name,
            f"file is too large for a spec: {_size(size)} (the limit is {_size(MAX_SPEC_BYTES)})",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceProblem(Diagnostic(summary=f"cannot read {name}: {exc.strerror}")) from None
    return decode_source(data, name)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def decode_source(data: bytes, name: str) -> str:
    """Decode spec bytes as UTF-8 (BOM allowed); binary or other encodings are refused."""
    if len(data) > MAX_SPEC_BYTES:
        raise _problem(
            name,
            f"file is too large for a spec: {len(data) / 1024 / 1024:.1f} MB "
            f"(the limit is {MAX_SPEC_BYTES // 1024 // 1024} MB)",
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = _line_col(data, nul)
        raise _problem(name, "file is binary (it holds NUL bytes), not a YAML spec", line, col)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col = _line_col(data, exc.start)
        raise _problem(
            name, f"file is not UTF-8 text (byte 0x{data[exc.start]:02x} is invalid)", line, col
        ) from None
    if not text.strip():
        raise _problem(name, "file is empty: expected at least one spec document")
    return text


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, offset - start + 1
