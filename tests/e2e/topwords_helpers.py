"""Helpers for the top-N Batch job's end-to-end tests: specs derived from the shipped
example, expected results computed independently of the task script, and readers of
``--output json`` runs."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SHIPPED_SPEC = REPO / "specs" / "topwords.yaml"
SAMPLES = sorted((REPO / "specs" / "topwords").glob("*.txt"))
TASK_SCRIPT = REPO / "runner" / "jobs" / "topwords.py"
ASCII_SPACE = re.compile(rb"[ \t\n\r\x0b\x0c]+")


def reference_top(path: Path, n: int) -> list[tuple[str, int]]:
    """The design's rule, written plainly: ASCII-whitespace words of the UTF-8 text (BOM
    dropped), ASCII punctuation stripped from both ends, empty words dropped, case kept;
    top ``n`` by count, ties in order of first appearance."""
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    counts: dict[str, int] = {}
    for raw in ASCII_SPACE.split(data):
        word = raw.decode("utf-8").strip(string.punctuation)
        if word:
            counts[word] = counts.get(word, 0) + 1
    # sorted() is stable and dicts keep first insertion: ties stay in appearance order.
    return sorted(counts.items(), key=lambda kv: -kv[1])[:n]


def read_report(path: Path) -> tuple[list[tuple[str, int]], dict[str, str]]:
    """``(words, footer)`` of one ``<stem>_OUTPUT.txt``: ``word:\\tcount`` lines between
    the dashed rules, then the ``Node:``/``Task:``/``Job:``/``Pool:`` lines."""
    lines = path.read_text().splitlines()
    assert lines[0].split() == ["Word", "Count"], lines[:2]
    rules = [i for i, line in enumerate(lines) if line and set(line) == {"-"}]
    words = []
    for line in lines[rules[0] + 1 : rules[1]]:
        word, _, count = line.rpartition(":\t")
        words.append((word, int(count)))
    footer = {}
    for line in lines[rules[1] + 1 :]:
        key, _, value = line.partition(":")
        footer[key.strip()] = value.strip()
    return words, footer


def write_spec(
    folder: Path, name: str, texts: dict[str, str] | None = None, **changes: Any
) -> Path:
    """A copy of the shipped spec under ``folder`` with its own name, pool and job ids (so
    tests never share Batch resources) and ``changes`` merged in; ``texts`` become the
    input files (default: the shipped samples)."""
    spec = yaml.safe_load(SHIPPED_SPEC.read_text())
    spec["name"] = name
    spec["pool"]["id"] = f"{name}-pool"
    spec["job"]["id"] = f"{name}-job"
    spec["vars"]["out"] = f"out/{name}"
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = value
    inputs = folder / "topwords"
    inputs.mkdir(parents=True, exist_ok=True)
    if texts is None:
        for sample in SAMPLES:
            (inputs / sample.name).write_bytes(sample.read_bytes())
    else:
        for file_name, text in texts.items():
            (inputs / file_name).write_text(text)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def result_of(text: str) -> dict[str, Any]:
    results = [d for d in json_lines(text) if d.get("type") == "result"]
    assert results, f"no result line in:\n{text}"
    return results[-1]


def events(text: str, kind: str) -> list[dict[str, Any]]:
    return [d for d in json_lines(text) if d.get("type") == kind]
