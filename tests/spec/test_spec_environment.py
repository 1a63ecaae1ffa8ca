"""Plain environment settings are shown by every Batch read of the job, so a value that
looks like a secret is refused, by its name or by its look, and the message names the
field, never the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.spec.batch_environment import environment_problem, looks_secret
from runner.spec.files import check_files
from runner.spec.loader import load_specs

STORAGE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@pytest.mark.parametrize(
    ("value", "looks_like"),
    [
        (STORAGE_KEY, "an account key (base64)"),
        ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=xyz;", "a connection string"),
        (
            "https://a.blob.core.windows.net/c?sv=2022-11-02&se=2030&sp=r&sig=AbCd%2Bef0123456789xyz",
            "a shared access signature",
        ),
        ("sv=2022-11-02&sig=AbCdEf0123456789xyz0", "a shared access signature"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE", "a private key"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig", "a JSON web token"),
        ("ghp_" + "a1B2" * 9, "an access token"),
        ("postgres://app:s3cret@db.example.org/app", "a URL with a password"),
    ],
)
def test_values_that_look_secret_are_named_by_what_they_look_like(
    value: str, looks_like: str
) -> None:
    what = looks_secret(value)
    assert what is not None and what.startswith(looks_like)


@pytest.mark.parametrize(
    "value",
    [
        "/mnt/data/Sample01/reads/lane2/run7/part-0001/final.fastq.gz",
        "3f786850e387550fdab836ed7e6dc881de23001b",  # a commit id
        "https://example.org/data?page=2&sort=asc",
        "hello world",
        "0.001",
        "aGVsbG8=",
    ],
)
def test_plain_values_pass(value: str) -> None:
    assert looks_secret(value) is None


@pytest.mark.parametrize(
    ("name", "value", "refused"),
    [
        ("DB_PASSWORD", "hunter2", True),
        ("API_KEY", "abc", True),
        ("apiToken", "abc", True),
        ("CLIENT_SECRET", "x", True),
        ("MAX_TOKENS", "512", False),  # a count, whatever the name says
        ("USE_SECRET_STORE", "true", False),
        ("SORT_ORDER", "desc", False),
        ("SAMPLE", STORAGE_KEY, True),
    ],
)
def test_names_that_say_secret_refuse_all_but_plain_values(
    name: str, value: str, refused: bool
) -> None:
    problem = environment_problem(name, value)
    assert (problem is not None) is refused
    if problem:
        assert f"job.secrets.{name}: {{fromEnv: VARIABLE}}" in problem
        assert value not in problem


def test_a_row_that_renders_a_key_into_the_environment_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "samples.csv").write_text(f"sample,blob\na,{STORAGE_KEY}\n")
    spec = tmp_path / "job.yaml"
    spec.write_text(
        "kind: BatchJob\nname: sweep\npool: {id: p}\njob: {id: j}\n"
        "tasks:\n  forEach: {rows: samples.csv}\n  id: 's-{{ row.sample }}'\n"
        "  command: 'echo $BLOB'\n  environment:\n    BLOB: '{{ row.blob }}'\n"
        "collect: {dir: out}\n"
    )
    (loaded,) = load_specs([spec.name])
    (problem,) = check_files(loaded, cwd=tmp_path)
    assert problem.field_path == "tasks.environment.BLOB"
    assert problem.span is not None and (problem.span.line, problem.span.col) == (10, 11)
    assert problem.summary.startswith(
        "BLOB renders, for row 1 (samples.csv:2), a value that looks like an account key"
    )
    assert STORAGE_KEY not in problem.summary


def test_a_secret_whose_variable_is_unset_is_located_before_anything_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNNER_TEST_SURELY_UNSET", raising=False)
    (tmp_path / "job.yaml").write_text(
        "kind: BatchJob\nname: sec\npool: {id: p}\n"
        "job:\n  id: j\n  secrets:\n    API_TOKEN: {fromEnv: RUNNER_TEST_SURELY_UNSET}\n"
        "tasks:\n  forEach: {values: [a]}\n  id: 't-{{ item }}'\n  command: 'true'\n"
        "collect: {dir: out}\n"
    )
    (loaded,) = load_specs(["job.yaml"])
    (problem,) = check_files(loaded, cwd=tmp_path)
    assert problem.field_path == "job.secrets.API_TOKEN.fromEnv"
    assert problem.span is not None and (problem.span.line, problem.span.col) == (7, 26)
    assert problem.summary.startswith(
        "secret API_TOKEN: the environment variable RUNNER_TEST_SURELY_UNSET is not set"
    )
    monkeypatch.setenv("RUNNER_TEST_SURELY_UNSET", "x")
    assert check_files(loaded, cwd=tmp_path) == []
