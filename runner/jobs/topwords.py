"""Top-N words of a text file: the task script that runs on Batch nodes.

Usage (the flag names of the Azure Batch Python tutorial's task script)::

    python3 topwords.py --filepath FILE --numwords N [--output PATH] [--counts PATH]

The report goes to PATH, or to standard output when ``--output`` is absent. ``--counts``
also writes every word's count, one ``word<TAB>count`` line each in order of first
appearance: what ``topwords_merge.py`` sums into the top N of many files.
Standard library only, Python 3.8 or later: the file is copied alone onto
the nodes and run by the node image's own ``python3``.

Tokens
    The file is read as UTF-8; one leading byte order mark is dropped. Words are
    separated by runs of ASCII whitespace -- space, tab, line feed, carriage
    return, vertical tab and form feed -- which is exactly what ``bytes.split()``
    and ``tr '[:space:]'`` in the C locale split on. Unicode spaces (no-break
    space, em space, ...) are not separators: they stay inside their word.
    ASCII punctuation (``string.punctuation``) is stripped from both ends of a
    word and kept inside it (``don't``); words that end up empty are dropped.
    Case is kept.

Ranking
    The top N by count; words with equal counts keep the order in which they
    first appear in the file.

Streaming
    The file is read in binary chunks and counted a chunk at a time, so memory
    grows with the vocabulary, not with the file. A read may end in the middle
    of a word: that tail is carried over and joined with the start of the next
    read. The same carry covers a multibyte character cut by a read, because
    every byte of a UTF-8 multibyte sequence is >= 0x80 and so never one of the
    ASCII separators or punctuation marks: splitting and stripping bytes can
    never cut a character. For the same reason the file is valid UTF-8 exactly
    when every word is, so only the distinct words are decoded, once each.

Speed
    Raw tokens are counted with ``Counter.update`` on ``bytes.split()`` lists
    (both C loops); punctuation is stripped once per distinct raw token
    afterwards, not once per occurrence. ``Counter`` keeps keys in insertion
    order, i.e. first appearance, and merging the stripped variants of a word
    in that order keeps the first appearance of the stripped word.
    Files of PARALLEL_MIN_BYTES or more are cut at whitespace into one byte
    range per worker process (``--jobs``, default: the usable CPUs, at most
    MAX_JOBS); the ranges' counts are merged in file order, which keeps first
    appearance too. Without working multiprocessing it counts in one process.

Exit codes: 0 done, 2 bad arguments or unreadable or non-UTF-8 input (with a
one-line message on standard error), 1 when the report cannot be written.
"""

from __future__ import annotations

import argparse
import codecs
import heapq
import os
import string
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import BinaryIO

CHUNK_SIZE = 1 << 18
"""Bytes per read. A read's token list costs ~60 bytes per word, so 256 KiB
keeps it near 3 MB; larger reads measured no faster."""
PARALLEL_MIN_BYTES = 32 << 20
"""Below this, starting worker processes costs more than it saves."""
MAX_JOBS = 4
"""Each worker holds its own vocabulary; four keep the total memory modest."""

WHITESPACE = frozenset(b" \t\n\r\x0b\x0c")
PUNCTUATION = string.punctuation.encode("ascii")
BOM = codecs.BOM_UTF8
RULE = "-" * 30
# Order and spelling as in the tutorial's report ("Job:" has two spaces to align).
ENV_LINES = (
    ("Node: ", "AZ_BATCH_NODE_ID"),
    ("Task: ", "AZ_BATCH_TASK_ID"),
    ("Job:  ", "AZ_BATCH_JOB_ID"),
    ("Pool: ", "AZ_BATCH_POOL_ID"),
)


class InputError(Exception):
    """The input cannot be read as UTF-8 text; the message says why."""


def read_chunks(
    stream: BinaryIO, chunk_size: int = CHUNK_SIZE, start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """Bytes start..end of the file in reads of chunk_size; a BOM at offset 0 is dropped."""
    if start:
        stream.seek(start)
    else:
        head = stream.read(len(BOM))
        if head != BOM:
            stream.seek(0)
    left = -1 if end is None else end - stream.tell()
    while left:
        data = stream.read(chunk_size if left < 0 else min(chunk_size, left))
        if not data:
            return
        left = left - len(data) if left > 0 else left
        yield data


def count_raw_tokens(chunks: Iterable[bytes]) -> Counter[bytes]:
    """Count whitespace-separated byte tokens, keyed in order of first appearance."""
    counts: Counter[bytes] = Counter()
    # The pieces of a word that may continue in the next read.
    open_parts: list[bytes] = []
    for data in chunks:
        if not data:
            continue
        tokens = data.split()
        if open_parts:
            if data[0] in WHITESPACE:
                # The held-over word ended exactly at the previous read.
                counts[b"".join(open_parts)] += 1
                open_parts = []
            elif len(tokens) == 1 and data[-1] not in WHITESPACE:
                # The whole read is the middle of one long word: joining it now
                # would copy the growing word once per read.
                open_parts.append(data)
                continue
            else:
                open_parts.append(tokens[0])
                tokens[0] = b"".join(open_parts)
                open_parts = []
        if tokens and data[-1] not in WHITESPACE:
            open_parts = [tokens.pop()]
        counts.update(tokens)
    if open_parts:
        counts[b"".join(open_parts)] += 1
    return counts


def merge_words(raw: Counter[bytes]) -> dict[str, int]:
    """Strip punctuation, drop empty words, decode; keys stay in first-appearance order."""
    words: dict[bytes, int] = {}
    get = words.get
    for token, count in raw.items():
        word = token.strip(PUNCTUATION)
        if word:
            words[word] = get(word, 0) + count
    decoded: dict[str, int] = {}
    for word, count in words.items():
        # Keys are distinct bytes, so their decodings are distinct strings.
        decoded[word.decode("utf-8")] = count
    return decoded


def top_words(words: dict[str, int], n: int) -> list[tuple[str, int]]:
    """The n most frequent words; nlargest is stable, so ties keep insertion order."""
    return heapq.nlargest(n, words.items(), key=itemgetter(1))


def split_ranges(path: str | os.PathLike[str], parts: int) -> list[tuple[int, int]]:
    """Cut the file into about `parts` byte ranges, each cut just after a whitespace byte."""
    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as stream:
        for i in range(1, parts):
            at = max(size * i // parts, cuts[-1])
            stream.seek(at)
            # Move the cut forward to the next whitespace so that no word is cut.
            while block := stream.read(4096):
                hit = next((k for k, byte in enumerate(block) if byte in WHITESPACE), -1)
                if hit >= 0:
                    at += hit + 1
                    break
                at += len(block)
            cuts.append(min(at, size))
    cuts.append(size)
    # Indexing rather than zip(strict=...), which node images with Python < 3.10 lack.
    return [(cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1) if cuts[i + 1] > cuts[i]]


def count_range(job: tuple[str, int, int, int]) -> Counter[bytes]:
    """Raw token counts of one byte range; a module-level function so workers can run it."""
    path, start, end, chunk_size = job
    with open(path, "rb") as stream:
        return count_raw_tokens(read_chunks(stream, chunk_size, start, end))


def count_parallel(jobs: list[tuple[str, int, int, int]]) -> Counter[bytes] | None:
    """Count ranges in worker processes; None when this system cannot run them."""
    try:
        import multiprocessing

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        with context.Pool(len(jobs)) as pool:
            parts = pool.map(count_range, jobs, chunksize=1)
    except (ImportError, OSError, NotImplementedError):
        return None
    total = parts[0]
    for part in parts[1:]:
        # Later ranges add their new words after all earlier ones: first appearance holds.
        total.update(part)
    return total


def default_jobs() -> int:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_JOBS, usable or 1))


def count_file(
    path: str | os.PathLike[str],
    chunk_size: int = CHUNK_SIZE,
    jobs: int | None = None,
    parallel_min_bytes: int = PARALLEL_MIN_BYTES,
) -> dict[str, int]:
    """Word counts of a file, in first-appearance order. Raises InputError."""
    name = os.fspath(path)
    jobs = default_jobs() if jobs is None else max(1, jobs)
    raw: Counter[bytes] | None = None
    try:
        if jobs > 1 and os.path.getsize(name) >= parallel_min_bytes:
            ranges = split_ranges(name, jobs)
            if len(ranges) > 1:
                raw = count_parallel([(name, a, b, chunk_size) for a, b in ranges])
        if raw is None:
            with open(name, "rb") as stream:
                raw = count_raw_tokens(read_chunks(stream, chunk_size))
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        return merge_words(raw)
    except UnicodeDecodeError:
        raise InputError(describe_bad_utf8(name)) from None


def describe_bad_utf8(path: str | os.PathLike[str]) -> str:
    """Find the first invalid byte; only runs on the error path, so a second pass is fine."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as stream:
        while data := stream.read(CHUNK_SIZE):
            # A failed decode reports positions in (bytes held from the last read + data).
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(data)
            except UnicodeDecodeError as exc:
                at = offset - pending + exc.start
                bad = exc.object[exc.start]
                return f"{os.fspath(path)} is not UTF-8 text: byte 0x{bad:02x} at offset {at}"
            offset += len(data)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        at = offset - len(exc.object) + exc.start
        return f"{os.fspath(path)} is not UTF-8 text: truncated character at offset {at}"
    return f"{os.fspath(path)} is not UTF-8 text"


def format_report(top: Iterable[tuple[str, int]], environ: dict[str, str] | None = None) -> str:
    """The tutorial's report: header, rule, ``word:<TAB>count`` lines, rule, node lines."""
    env = os.environ if environ is None else environ
    lines = ["Word\tCount", RULE]
    lines.extend(f"{word}:\t{count}" for word, count in top)
    lines.append(RULE)
    lines.extend(label + env.get(name, "") for label, name in ENV_LINES)
    return "\n".join(lines) + "\n"


def format_counts(words: dict[str, int]) -> str:
    """Every word's count, ``word<TAB>count`` lines in first-appearance order (a word
    holds no whitespace, so the tab always ends it)."""
    return "".join(f"{word}\t{count}\n" for word, count in words.items())


def non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="topwords.py", description="Print the N most frequent words of a UTF-8 text file."
    )
    parser.add_argument("--filepath", required=True, help="the text file to read")
    parser.add_argument(
        "--numwords", required=True, type=non_negative, help="how many words to report"
    )
    parser.add_argument("--output", help="write the report here instead of standard output")
    parser.add_argument("--counts", help="also write every word's count here")
    parser.add_argument(
        "--jobs",
        type=int,
        help=f"worker processes for large files (default: usable CPUs, at most {MAX_JOBS})",
    )
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        words = count_file(args.filepath, max(1, args.chunk_size), args.jobs)
    except InputError as exc:
        print(f"topwords.py: error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.counts:
            with open(args.counts, "wb") as out:
                out.write(format_counts(words).encode("utf-8"))
    except OSError as exc:
        print(f"topwords.py: error: cannot write the report: {exc}", file=sys.stderr)
        return 1
    return write_report(format_report(top_words(words, args.numwords)), args.output, "topwords.py")


def write_report(report: str, output: str | None, script: str) -> int:
    """Writes ``report`` to ``output`` (standard output when None); the exit code."""
    data = report.encode("utf-8")
    try:
        if output:
            with open(output, "wb") as out:
                out.write(data)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
    except OSError as exc:
        print(f"{script}: error: cannot write the report: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
