"""Reading spec files: size, encoding and emptiness checks before any YAML parsing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from runner.errors import Diagnostic, Span

# Specs are hand-written; anything this large is a mistake (or an attack on the parser).
# The YAML parser that keeps positions is pure Python (about 250 KB/s on deeply keyed
# files), so the limit also bounds how long a refused or accepted file takes: about 2 s.
MAX_SPEC_BYTES = 512 * 1024

# A FIFO opened without O_NONBLOCK waits for a writer, which may never come; the type is
# checked again on the open file, so the non-blocking open never reaches a read of one.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_OPEN_FLAGS |= getattr(os, "O_BINARY", 0)


class SourceProblem(Exception):
    """A file that cannot be read as a spec at all; carries one diagnostic."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.summary)
        self.diagnostic = diagnostic


def _problem(file: str, message: str, line: int = 1, col: int = 1) -> SourceProblem:
    return SourceProblem(Diagnostic(summary=message, span=Span(file, line, col)))


def _unlocated(message: str) -> SourceProblem:
    return SourceProblem(Diagnostic(summary=message))


def read_source(path: Path, display: str | None = None, *, empty_ok: bool = False) -> str:
    """Return the text of ``path`` or raise ``SourceProblem`` saying why it is not a spec.
    ``empty_ok`` lets an empty (or blank) file through as ``""``."""
    name = display or str(path)
    return decode_source(read_bounded(path, name), name, empty_ok=empty_ok)


def read_bounded(path: Path, name: str, limit: int = MAX_SPEC_BYTES) -> bytes:
    """The bytes of the regular file ``path``, refused when over ``limit``.

    Pipes, devices and sockets are refused before they are opened: a FIFO would block
    and ``/dev/zero`` never ends (and reports a size of 0). At most ``limit + 1`` bytes are
    read whatever the size says, so a file that grows, or lies about its size, is bounded.
    """
    try:
        _check_type(os.stat(path).st_mode, name)
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise _unlocated(f"no such file: {name}") from None
    except OSError as exc:
        raise _unlocated(f"cannot read {name}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        _check_type(info.st_mode, name)
        if info.st_size > limit:
            raise _too_large(name, info.st_size, limit)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _unlocated(f"cannot read {name}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise _too_large(name, None, limit)
    return b"".join(chunks)


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_type(mode: int, name: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise _unlocated(f"{name} is a folder, not a spec file")
    kind = next((what for test, what in _KINDS if test(mode)), None)
    raise _unlocated(
        f"{name} is {kind}, not a regular file" if kind else f"{name} is not a regular file"
    )


def _too_large(name: str, size: int | None, limit: int = MAX_SPEC_BYTES) -> SourceProblem:
    seen = (
        f"{_size(size)} (the limit is {_size(limit)})"
        if size is not None
        else f"over the limit of {_size(limit)}"
    )
    return _problem(name, f"file is too large for a spec: {seen}")


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def decode_source(data: bytes, name: str, *, empty_ok: bool = False) -> str:
    """Decode spec bytes as UTF-8 (BOM allowed); binary or other encodings are refused."""
    if len(data) > MAX_SPEC_BYTES:
        raise _too_large(name, None)
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
    if not text.strip() and not empty_ok:
        raise _problem(name, "file is empty: expected at least one spec document")
    return text


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, offset - start + 1
