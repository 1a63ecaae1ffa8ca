"""Crash and resume of a job whose tasks run in containers: specs/topwords-container.yaml
on the test image over the inputs of the top-N crash test, stopped at the same points.
After the re-apply the outputs equal an uninterrupted run's and no task ran twice within
one job (see test_topwords_crash.py). The ledger each task writes to is mounted into its
container at its own path."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from chaos_flow import Reference, reference_run, run_point
from chaos_process import KillPoint, point_params
from test_topwords_crash import CI_POINTS, FULL_POINTS, TEXTS, TopWords, write_spec

pytestmark = pytest.mark.integration

SHIPPED = Path(__file__).resolve().parents[2] / "specs" / "topwords-container.yaml"
NAME = "chaos-boxed"


@dataclass
class BoxedWords(TopWords):
    image: str = ""

    def _spec_args(self) -> list[str]:
        shown = ["--var", f"ledger_dir={self.cwd}", "--var", f"image={self.image}"]
        return [*super()._spec_args(), *shown]


def _boxed_spec(folder: Path) -> Path:
    path = write_spec(folder, SHIPPED, NAME)
    spec = yaml.safe_load(path.read_text())
    spec["tasks"]["container"]["options"] = "-v {{ vars.ledger_dir }}:{{ vars.ledger_dir }}"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def boxed_world(
    emulator: dict[str, Any], test_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    from azure.storage.blob import BlobServiceClient
    from fixtures_batch import batch_client_for

    from runner.local.nodes.layout import nodes_root

    spec = _boxed_spec(tmp_path_factory.mktemp("chaos-boxed-spec"))
    batch = batch_client_for(emulator)
    blobs = BlobServiceClient.from_connection_string(
        emulator["storage"]["connection_string"], retry_total=0
    )
    nodes = nodes_root(Path(os.environ["RUNNER_LOCAL_DIR"]))

    def world(cwd: Path) -> BoxedWords:
        cwd.mkdir(parents=True, exist_ok=True)
        return BoxedWords(
            cwd,
            spec,
            batch,
            blobs,
            nodes,
            kind="job of container tasks",
            workspace=NAME,
            name=NAME,
            out_dir="out/topwords-container",
            start_files=0,
            image=test_image,
        )

    return world


@pytest.fixture(scope="module")
def boxed_reference(
    boxed_world: Any, make_cli: Any, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    cwd = tmp_path_factory.mktemp("chaos-boxed-reference")
    reference = reference_run(boxed_world(cwd), make_cli(cwd))
    assert sorted(reference.outputs) == sorted(f"{Path(n).stem}_OUTPUT.txt" for n in TEXTS)
    return reference


@pytest.mark.parametrize("point", point_params(CI_POINTS, FULL_POINTS))
def test_container_job_resumes_after_a_signal(
    boxed_world: Any,
    boxed_reference: Reference,
    make_cli: Any,
    scan: Any,
    tmp_path: Path,
    point: KillPoint,
) -> None:
    world = boxed_world(tmp_path / "work")
    run_point(world, make_cli(world.cwd), point, boxed_reference, scan)
