"""Crash and resume of a job with a merge task: specs/topwords-corpus.yaml over the
inputs of the top-N crash test, stopped at the same points. After the re-apply the
per-file outputs and TOTAL_OUTPUT.txt equal an uninterrupted run's, and no task, the
merge included, ran twice within one job (see test_topwords_crash.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from chaos_flow import Reference, reference_run, run_point
from chaos_process import KillPoint, point_params
from test_topwords_crash import CI_POINTS, FULL_POINTS, TEXTS, TopWords, write_spec

pytestmark = pytest.mark.integration

SHIPPED = Path(__file__).resolve().parents[2] / "specs" / "topwords-corpus.yaml"
NAME = "chaos-corpus"


@pytest.fixture(scope="module")
def corpus_world(emulator: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    from azure.storage.blob import BlobServiceClient
    from fixtures_batch import batch_client_for

    from runner.local.nodes.layout import nodes_root

    spec = write_spec(tmp_path_factory.mktemp("chaos-corpus-spec"), SHIPPED, NAME)
    batch = batch_client_for(emulator)
    blobs = BlobServiceClient.from_connection_string(
        emulator["storage"]["connection_string"], retry_total=0
    )
    nodes = nodes_root(Path(os.environ["RUNNER_LOCAL_DIR"]))
    return lambda cwd: TopWords(
        cwd,
        spec,
        batch,
        blobs,
        nodes,
        kind="job with a merge task",
        workspace=NAME,
        name=NAME,
        out_dir="out/topwords-corpus",
        merged=("topwords-total",),
        start_files=2,
    )


@pytest.fixture(scope="module")
def corpus_reference(
    corpus_world: Any, make_cli: Any, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    cwd = tmp_path_factory.mktemp("chaos-corpus-reference")
    reference = reference_run(corpus_world(cwd), make_cli(cwd))
    per_file = [f"{Path(n).stem}_OUTPUT.txt" for n in TEXTS]
    assert sorted(reference.outputs) == sorted([*per_file, "TOTAL_OUTPUT.txt"])
    return reference


@pytest.mark.parametrize("point", point_params(CI_POINTS, FULL_POINTS))
def test_corpus_resumes_after_a_signal(
    corpus_world: Any,
    corpus_reference: Reference,
    make_cli: Any,
    scan: Any,
    tmp_path: Path,
    point: KillPoint,
) -> None:
    world = corpus_world(tmp_path / "work")
    run_point(world, make_cli(world.cwd), point, corpus_reference, scan)
