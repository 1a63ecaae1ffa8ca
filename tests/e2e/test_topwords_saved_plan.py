"""A saved Batch plan holds the content of the local files it was made from: one changed
before ``apply --plan`` is refused, naming the file, and nothing is created."""

from __future__ import annotations

from typing import Any

import pytest
from topwords_helpers import write_spec

pytestmark = pytest.mark.integration


def test_an_input_changed_since_plan_out_is_named_and_nothing_is_applied(
    cli: Any, emulator: dict[str, Any], unique_name: Any, tmp_path: Any
) -> None:
    from runner.backends.target import local_target

    name = unique_name("tw-saved")
    folder = tmp_path / "spec"
    spec = write_spec(folder, name, texts={"a.txt": "a b\n", "b.txt": "c\n"})
    saved = tmp_path / "batch.plan"
    cli("plan", "-out", str(saved), *cli.spec_args(spec)).expect(0)

    changed = folder / "topwords" / "b.txt"
    changed.write_text("c c\n")
    refused = cli("apply", "--plan", str(saved)).expect(1)

    assert "stale" in refused.err
    assert f"{changed.resolve()} (content changed)" in refused.err
    assert "a.txt" not in refused.err
    client = local_target(emulator).batch_client("local")
    with pytest.raises(Exception, match="NotFound"):
        client.get_pool(f"{name}-pool")
