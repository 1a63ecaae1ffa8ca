"""The top N words across many files: the merge task script that runs on Batch nodes.

Usage::

    python3 topwords_merge.py --numwords N [--output PATH] COUNTS...

Each COUNTS file is one written by ``topwords.py --counts``: every word of one input
file with its count, in order of first appearance. They are summed in the order given,
so a word's first appearance is its first in the first file that has it; with the input
files given in their sorted order, the result is exactly the top N of their
concatenation, ties in order of first appearance. The report has the format of
``topwords.py``'s, with this task's ``Node:``, ``Task:``, ``Job:`` and ``Pool:``.

Standard library only: copied beside ``topwords.py`` onto the nodes, whose report
format and ranking it imports. Memory grows with the vocabulary, not with the files.

Exit codes: 0 done, 2 bad arguments or an unreadable or malformed counts file (with a
one-line message on standard error), 1 when the report cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

if __package__:  # imported from the runner package
    from runner.jobs.topwords import format_report, non_negative, top_words, write_report
else:  # run as a script on a node: topwords.py sits beside this file
    from topwords import (  # type: ignore[no-redef]
        format_report,
        non_negative,
        top_words,
        write_report,
    )


class CountsError(Exception):
    """A counts file cannot be read; the message says why."""


def add_counts(total: dict[str, int], path: str) -> None:
    """Add one counts file's counts to ``total``; new words go after the known ones."""
    try:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                word, tab, count = line.rstrip("\n").rpartition("\t")
                if not tab or not word or not count.isdigit():
                    raise CountsError(f"{path}:{number}: expected 'word<TAB>count'")
                total[word] = total.get(word, 0) + int(count)
    except OSError as exc:
        raise CountsError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CountsError(f"{path} is not UTF-8 text") from None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="topwords_merge.py",
        description="Print the N most frequent words across counts files of topwords.py.",
    )
    parser.add_argument("counts", nargs="+", help="counts files, in input file order")
    parser.add_argument(
        "--numwords", required=True, type=non_negative, help="how many words to report"
    )
    parser.add_argument("--output", help="write the report here instead of standard output")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    total: dict[str, int] = {}
    try:
        for path in args.counts:
            add_counts(total, path)
    except CountsError as exc:
        print(f"topwords_merge.py: error: {exc}", file=sys.stderr)
        return 2
    report = format_report(top_words(total, args.numwords))
    return write_report(report, args.output, "topwords_merge.py")


if __name__ == "__main__":
    sys.exit(main())
