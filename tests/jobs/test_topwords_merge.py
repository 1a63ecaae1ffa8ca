"""The merge task script: counts files written by ``topwords.py --counts`` summed in the
order given give the top N of the files' concatenation, in the per-file report format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

JOBS = Path(__file__).resolve().parents[2] / "runner" / "jobs"


def _run(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Run as on a node: the two scripts side by side, no runner package needed.
    return subprocess.run(
        [sys.executable, "-E", str(cwd / script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def _words(report: str) -> list[tuple[str, int]]:
    lines = [line for line in report.splitlines() if ":\t" in line]
    return [(w, int(c)) for w, _, c in (line.rpartition(":\t") for line in lines)]


def test_merged_counts_are_the_top_of_the_concatenation(tmp_path: Path) -> None:
    for script in ("topwords.py", "topwords_merge.py"):
        (tmp_path / script).write_bytes((JOBS / script).read_bytes())
    texts = {"a.txt": "x, y y z\n", "b.txt": "z z y x! w\n"}
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
        stem = name.removesuffix(".txt")
        done = _run(
            "topwords.py",
            "--filepath",
            name,
            "--numwords",
            "1",
            "--counts",
            f"{stem}.counts",
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "a.counts").read_text() == "x\t1\ny\t2\nz\t1\n"

    merged = _run("topwords_merge.py", "--numwords", "4", "a.counts", "b.counts", cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    (tmp_path / "all.txt").write_text("".join(texts.values()))
    whole = _run("topwords.py", "--filepath", "all.txt", "--numwords", "4", cwd=tmp_path)
    # y and z tie at 3: y first appears before z in a.txt, read first.
    assert _words(merged.stdout) == _words(whole.stdout) == [("y", 3), ("z", 3), ("x", 2), ("w", 1)]
    assert merged.stdout.startswith("Word\tCount\n")
    assert "\nTask: " in merged.stdout


def test_malformed_counts_file_is_an_error_naming_its_line(tmp_path: Path) -> None:
    (tmp_path / "topwords.py").write_bytes((JOBS / "topwords.py").read_bytes())
    (tmp_path / "topwords_merge.py").write_bytes((JOBS / "topwords_merge.py").read_bytes())
    (tmp_path / "bad.counts").write_text("x\t1\nno count here\n")
    done = _run("topwords_merge.py", "--numwords", "1", "bad.counts", cwd=tmp_path)
    assert done.returncode == 2
    assert "bad.counts:2: expected 'word<TAB>count'" in done.stderr
