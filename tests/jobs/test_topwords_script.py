"""The top-N task script: tokens, ties, streaming edges and the report, through its CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from runner.jobs import topwords

SCRIPT = Path(topwords.__file__)
BATCH_ENV = {
    "AZ_BATCH_NODE_ID": "tvm-1234_1-20260101t000000z",
    "AZ_BATCH_TASK_ID": "topwords-alice",
    "AZ_BATCH_JOB_ID": "topwords-job",
    "AZ_BATCH_POOL_ID": "topwords-pool",
}


def run_script(
    *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AZ_BATCH_")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        env={**base, **(env or {})},
        check=False,
    )


def words_of(data: bytes, tmp_path: Path, chunk_size: int = topwords.CHUNK_SIZE) -> list:
    path = tmp_path / "input.txt"
    path.write_bytes(data)
    return list(topwords.count_file(path, chunk_size, jobs=1).items())


def test_punctuation_is_stripped_from_both_ends_and_kept_inside(tmp_path: Path) -> None:
    data = b'"Hello," (hello) don\'t e.g. --well-known-- ...hello!?'
    assert words_of(data, tmp_path) == [
        ("Hello", 1),
        ("hello", 2),
        ("don't", 1),
        ("e.g", 1),
        ("well-known", 1),
    ]


def test_case_is_kept(tmp_path: Path) -> None:
    assert words_of(b"The the THE the", tmp_path) == [("The", 1), ("the", 2), ("THE", 1)]


def test_leading_bom_is_dropped(tmp_path: Path) -> None:
    data = "\ufeffword word".encode()
    assert words_of(data, tmp_path) == [("word", 2)]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4])
def test_leading_bom_is_dropped_whatever_the_read_size(tmp_path: Path, chunk_size: int) -> None:
    data = "\ufeffab ab".encode()
    assert words_of(data, tmp_path, chunk_size) == [("ab", 2)]


def test_bom_after_the_start_is_part_of_a_word(tmp_path: Path) -> None:
    data = "a \ufeffa".encode()
    assert words_of(data, tmp_path) == [("a", 1), ("\ufeffa", 1)]


def test_ties_keep_the_order_of_first_appearance(tmp_path: Path) -> None:
    words = topwords.count_file(_write(tmp_path, b"pear apple fig apple pear fig kiwi"), jobs=1)
    assert topwords.top_words(words, 2) == [("pear", 2), ("apple", 2)]
    assert topwords.top_words(words, 4) == [("pear", 2), ("apple", 2), ("fig", 2), ("kiwi", 1)]


def test_first_appearance_counts_a_punctuated_spelling(tmp_path: Path) -> None:
    # "y." comes first in the file, so "y" ranks before "x" at equal counts.
    words = topwords.count_file(_write(tmp_path, b"y. x y x"), jobs=1)
    assert topwords.top_words(words, 2) == [("y", 2), ("x", 2)]


def test_higher_counts_rank_first(tmp_path: Path) -> None:
    words = topwords.count_file(_write(tmp_path, b"a b b c c c"), jobs=1)
    assert topwords.top_words(words, 3) == [("c", 3), ("b", 2), ("a", 1)]


def test_ascii_whitespace_separates_words_and_unicode_spaces_do_not(tmp_path: Path) -> None:
    data = "a\tb\nc\rd\x0be\x0cf  g\u00a0h i\u2003j".encode()
    assert [w for w, _ in words_of(data, tmp_path)] == [
        "a", "b", "c", "d", "e", "f", "g\u00a0h", "i\u2003j",
    ]  # fmt: skip


def test_whitespace_is_exactly_what_bytes_split_splits_on() -> None:
    assert {b for b in range(256) if bytes([b]).isspace()} == topwords.WHITESPACE


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 7, 64])
def test_words_cut_by_a_read_are_joined(tmp_path: Path, chunk_size: int) -> None:
    data = b"alpha beta  gamma\n\ndelta alpha\tbeta epsilonepsilon alpha"
    expected = [("alpha", 3), ("beta", 2), ("gamma", 1), ("delta", 1), ("epsilonepsilon", 1)]
    assert words_of(data, tmp_path, chunk_size) == expected


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5])
def test_multibyte_characters_cut_by_a_read_are_joined(tmp_path: Path, chunk_size: int) -> None:
    data = "café naïve 日本語 😀😀 café".encode()
    expected = [("café", 2), ("naïve", 1), ("日本語", 1), ("😀😀", 1)]
    assert words_of(data, tmp_path, chunk_size) == expected


def test_a_word_longer_than_many_reads_is_counted_once(tmp_path: Path) -> None:
    long_word = b"x" * 1000
    data = long_word + b" y " + long_word
    assert words_of(data, tmp_path, chunk_size=3) == [(long_word.decode(), 2), ("y", 1)]


def test_worker_processes_give_the_same_counts_in_the_same_order(tmp_path: Path) -> None:
    words = [f"w{i % 97}{',' if i % 5 == 0 else ''}" for i in range(20_000)]
    path = _write(tmp_path, ("\ufeff" + " ".join(words) + "\n").encode())
    single = topwords.count_file(path, chunk_size=512, jobs=1)
    parallel = topwords.count_file(path, chunk_size=512, jobs=3, parallel_min_bytes=0)
    assert list(parallel.items()) == list(single.items())


def test_ranges_for_workers_start_after_whitespace_and_cover_the_file(tmp_path: Path) -> None:
    data = b"aaaa bbbb cccc dddd eeee ffff"
    path = _write(tmp_path, data)
    ranges = topwords.split_ranges(path, 4)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    pairs = zip(ranges, ranges[1:], strict=False)
    assert all(a_end == b_start for (_, a_end), (b_start, _) in pairs)
    assert all(data[start - 1 : start].isspace() for start, _ in ranges[1:])


def test_empty_file_reports_no_words(tmp_path: Path) -> None:
    done = run_script("--filepath", str(_write(tmp_path, b"")), "--numwords", "3", env=BATCH_ENV)
    assert done.returncode == 0
    assert done.stdout.decode().splitlines()[:3] == ["Word\tCount", "-" * 30, "-" * 30]


def test_file_without_words_reports_no_words(tmp_path: Path) -> None:
    path = _write(tmp_path, b"  ... -- !!\n\t(),;  \r\n?")
    assert topwords.count_file(path, jobs=1) == {}
    done = run_script("--filepath", str(path), "--numwords", "3")
    assert done.returncode == 0
    assert done.stdout.decode().splitlines()[:3] == ["Word\tCount", "-" * 30, "-" * 30]


def test_non_utf8_input_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    path = _write(tmp_path, b"fine words \xff\xfe here")
    done = run_script("--filepath", str(path), "--numwords", "3")
    assert done.returncode == 2
    assert done.stdout == b""
    message = done.stderr.decode()
    assert "is not UTF-8 text: byte 0xff at offset 11" in message
    assert "Traceback" not in message


def test_truncated_character_at_the_end_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, b"ok caf" + "é".encode()[:1])
    done = run_script("--filepath", str(path), "--numwords", "3")
    assert done.returncode == 2
    assert "truncated character at offset 6" in done.stderr.decode()


def test_invalid_byte_offset_is_exact_across_reads(tmp_path: Path) -> None:
    path = _write(tmp_path, "ab é".encode() + b"\xc3(")
    with pytest.raises(topwords.InputError, match="byte 0xc3 at offset 5"):
        topwords.count_file(path, chunk_size=2, jobs=1)


def test_missing_input_exits_2_without_traceback(tmp_path: Path) -> None:
    done = run_script("--filepath", str(tmp_path / "absent.txt"), "--numwords", "3")
    assert done.returncode == 2
    assert "cannot read" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()


def test_negative_word_count_is_refused(tmp_path: Path) -> None:
    done = run_script("--filepath", str(_write(tmp_path, b"a")), "--numwords", "-1")
    assert done.returncode == 2
    assert "--numwords" in done.stderr.decode()


def test_report_has_the_tutorial_format_with_batch_variables(tmp_path: Path) -> None:
    path = _write(tmp_path, "to be, or not to be: that is the question. Être".encode())
    done = run_script("--filepath", str(path), "--numwords", "3", env=BATCH_ENV)
    assert done.returncode == 0
    assert done.stdout.decode() == (
        "Word\tCount\n"
        "------------------------------\n"
        "to:\t2\n"
        "be:\t2\n"
        "or:\t1\n"
        "------------------------------\n"
        "Node: tvm-1234_1-20260101t000000z\n"
        "Task: topwords-alice\n"
        "Job:  topwords-job\n"
        "Pool: topwords-pool\n"
    )


def test_output_flag_writes_the_same_report_to_a_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "Être ou ne pas être, être".encode())
    to_stdout = run_script("--filepath", str(path), "--numwords", "2", env=BATCH_ENV)
    target = tmp_path / "alice_OUTPUT.txt"
    to_file = run_script(
        "--filepath", str(path), "--numwords", "2", "--output", str(target), env=BATCH_ENV
    )
    assert to_file.returncode == 0 and to_stdout.returncode == 0
    assert to_file.stdout == b""
    assert target.read_bytes() == to_stdout.stdout
    assert target.read_text(encoding="utf-8").splitlines()[2:4] == ["être:\t2", "Être:\t1"]


def test_missing_batch_variables_leave_the_lines_empty(tmp_path: Path) -> None:
    done = run_script("--filepath", str(_write(tmp_path, b"a")), "--numwords", "1")
    assert done.stdout.decode().splitlines()[-4:] == ["Node: ", "Task: ", "Job:  ", "Pool: "]


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "input.txt"
    path.write_bytes(data)
    return path
