"""Benchmark of the top-N task script (runner/jobs/topwords.py).

Generates a text (200 MB by default) into a temporary folder and times, in the
same run:

- the task script, as a subprocess, as Batch runs it (default workers, then --jobs 1);
- ``tr -s '[:space:]' '\\n' | sort | uniq -c | sort -rn | head`` over the same file;
- ``Counter(open(f).read().split())``, the naive whole-file Python count.

Prints the times, the ratios and the script's peak RSS, then RESULT lines
(see benchmarks/README.md). Goals: faster than the pipeline, under 100 MB.

    python benchmarks/topwords.py [--mb 200] [--runs 3] [--keep DIR]

With RUNNER_BENCH_QUICK=1 the default size is 40 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import sys
import tempfile
from pathlib import Path

from common import median_run, print_ratio, result

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "runner" / "jobs" / "topwords.py"
MEMORY_GOAL_MB = 100.0
NAIVE = (
    "import sys, collections;"
    "c = collections.Counter(open(sys.argv[1], encoding='utf-8-sig').read().split());"
    "print(c.most_common(3))"
)


def make_vocabulary(rng: random.Random, size: int) -> list[str]:
    """Word-like strings, some capitalised, some accented, some wrapped in punctuation."""
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    accents = "éèàçöüñßøå"
    words = []
    for _ in range(size):
        length = min(14, max(1, int(rng.expovariate(1 / 5)) + 1))
        word = "".join(rng.choices(letters, k=length))
        if rng.random() < 0.03:
            word = word[:-1] + rng.choice(accents)
        words.append(word)
    decorated = []
    for word in words:
        roll = rng.random()
        if roll < 0.10:
            word = word.capitalize()
        elif roll < 0.15:
            word = word + rng.choice(",.;:!?")
        elif roll < 0.17:
            word = "(" + word + ")"
        elif roll < 0.18:
            word = '"' + word + '"'
        decorated.append(word)
    return decorated


def generate_text(path: Path, megabytes: float, seed: int = 7) -> None:
    """Zipf-distributed words in lines of a few dozen words, written in ~1 MB blocks."""
    rng = random.Random(seed)
    vocabulary = make_vocabulary(rng, 60_000)
    weights = [1.0 / (rank + 1) for rank in range(len(vocabulary))]
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    target = int(megabytes * 1_000_000)
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        while written < target:
            words = rng.choices(vocabulary, cum_weights=cumulative, k=20_000)
            lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
            block = ("\n".join(lines) + "\n").encode("utf-8")
            block = block[: target - written] if written + len(block) > target else block
            out.write(block.decode("utf-8", errors="ignore"))
            written += len(block)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick = os.environ.get("RUNNER_BENCH_QUICK") == "1"
    parser.add_argument(
        "--mb", type=float, default=40.0 if quick else 200.0, help="size of the text (MB)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per command; median kept")
    parser.add_argument("--keep", type=Path, help="generate into (and reuse) this folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="topwords-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        text = folder / f"text-{args.mb:g}mb.txt"
        if not text.exists():
            print(f"generating {args.mb:g} MB of text into {text} ...", flush=True)
            generate_text(text, args.mb)
        size_mb = text.stat().st_size / 1e6
        print(f"input: {size_mb:.1f} MB, {args.runs} run(s) each, median kept", flush=True)

        quoted = shlex.quote(str(text))
        command = [sys.executable, str(SCRIPT), "--filepath", str(text), "--numwords", "10"]
        script = median_run(command, args.runs)
        print(
            f"topwords.py: {script.seconds:.3f} s, peak memory {script.peak_tree_mb:.1f} MB"
            f" (all processes; largest single process {script.peak_rss_mb:.1f} MB)",
            flush=True,
        )
        single = median_run([*command, "--jobs", "1"], args.runs)
        print(
            f"topwords.py --jobs 1: {single.seconds:.3f} s,"
            f" peak memory {single.peak_tree_mb:.1f} MB",
            flush=True,
        )
        pipeline = median_run(
            f"LC_ALL=C tr -s '[:space:]' '\\n' < {quoted} | LC_ALL=C sort | uniq -c"
            " | LC_ALL=C sort -rn | head",
            args.runs,
            shell=True,
        )
        print(f"tr|sort|uniq|sort|head: {pipeline.seconds:.3f} s", flush=True)
        naive = median_run([sys.executable, "-c", NAIVE, str(text)], args.runs)
        print(
            f"Counter(read().split()): {naive.seconds:.3f} s,"
            f" peak memory {naive.peak_tree_mb:.1f} MB",
            flush=True,
        )

        print_ratio("topwords.py vs pipeline", script.seconds, pipeline.seconds)
        print_ratio("topwords.py --jobs 1 vs pipeline", single.seconds, pipeline.seconds)
        print_ratio("topwords.py vs Counter(split())", script.seconds, naive.seconds)
        result(
            f"topwords.py vs tr|sort|uniq pipeline ({size_mb:.0f} MB)",
            figure=script.seconds,
            baseline=pipeline.seconds,
            unit="s",
            goal="ratio < 1",
            met=script.seconds < pipeline.seconds,
        )
        result(
            f"topwords.py --jobs 1 vs tr|sort|uniq pipeline ({size_mb:.0f} MB)",
            figure=single.seconds,
            baseline=pipeline.seconds,
            unit="s",
            goal="ratio < 1",
            met=single.seconds < pipeline.seconds,
        )
        result(
            f"topwords.py vs Counter(read().split()) ({size_mb:.0f} MB)",
            figure=script.seconds,
            baseline=naive.seconds,
            unit="s",
            goal="report only",
            met=True,
        )
        result(
            f"topwords.py peak memory, all processes ({size_mb:.0f} MB input)",
            figure=script.peak_tree_mb,
            baseline=naive.peak_tree_mb,
            unit="MB",
            goal=f"figure < {MEMORY_GOAL_MB:g} MB",
            met=script.peak_tree_mb < MEMORY_GOAL_MB,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
