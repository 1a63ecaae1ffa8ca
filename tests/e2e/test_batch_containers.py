"""Container tasks end to end on the local target: specs/topwords-container.yaml runs each
task in an image on the Docker engine, with the Batch layout (its input file in its
working directory, its output uploaded and collected); an image the engine lacks fails
the run, naming the image and how to load it, without waiting for the timeout."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from topwords_helpers import REPO, result_of

pytestmark = pytest.mark.integration

CONTAINER_SPEC = REPO / "specs" / "topwords-container.yaml"


def reference(path: Path, n: int) -> str:
    """The spec's pipeline (tr | sort | uniq -c | sort -k1,1nr -k2,2 | head), in Python."""
    words = [w.lower() for w in re.findall(rb"[A-Za-z]+", path.read_bytes())]
    counts = Counter(w.decode() for w in words)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return "".join(f"{count:7d} {word}\n" for word, count in top)


def test_each_task_runs_in_its_image_and_its_output_is_collected(
    cli, test_image: str, tmp_path: Path
) -> None:
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "a.txt").write_text("The cat saw the other cat; THE end.\n")
    (texts / "b.txt").write_text("one two two three three three\n")
    args = cli.spec_args(
        CONTAINER_SPEC, image=test_image, inputs=f"{texts}/*.txt", top="2", out="boxed"
    )
    plan = cli("plan", *args).expect(0)
    assert f'containerSettings.imageName = "{test_image}"' in plan.text
    assert 'image.offer = "ubuntu-hpc"' in plan.text

    run = cli("apply", *args, "--yes", "--output", "json").expect(0)

    counts = result_of(run.out)["counts"]
    assert (counts["succeeded"], counts["failed"]) == (2, 0)
    out = cli.cwd / "boxed"
    for name in ("a", "b"):
        got = (out / f"{name}_OUTPUT.txt").read_text()
        assert got == reference(texts / f"{name}.txt", 2), name


def test_an_image_the_engine_lacks_fails_the_run_saying_how_to_load_it(cli, tmp_path: Path) -> None:
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "a.txt").write_text("word\n")
    image = "runner-test/absent:0"
    args = cli.spec_args(CONTAINER_SPEC, image=image, inputs=f"{texts}/*.txt", out="none")

    run = cli("apply", *args, "--yes").expect(1)

    text = run.text
    assert f"The container image '{image}' could not be pulled to the node" in text
    assert f"docker pull {image}" in text and "docker load -i" in text
    assert "timed out" not in text
    assert not (cli.cwd / "none" / "a_OUTPUT.txt").exists()


def test_a_container_pool_on_an_image_without_docker_is_refused_before_anything_is_made(
    cli, test_image: str, tmp_path: Path, batch_client
) -> None:
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "a.txt").write_text("word\n")
    spec = yaml.safe_load(CONTAINER_SPEC.read_text())
    spec["name"] = "boxed-plain"
    spec["pool"]["id"] = "boxed-plain-pool"
    spec["pool"]["image"] = {
        "publisher": "canonical",
        "offer": "0001-com-ubuntu-server-jammy",
        "sku": "22_04-lts",
    }
    path = tmp_path / "boxed-plain.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    args = cli.spec_args(path, image=test_image, inputs=f"{texts}/*.txt")

    run = cli("apply", *args, "--yes").expect(1)

    assert f"{path.name}:" in run.err  # located in the spec
    assert "do not list DockerCompatible" in run.err
    assert "nothing was created" in run.err
    assert "boxed-plain-pool" not in {p.id for p in batch_client.list_pools()}
