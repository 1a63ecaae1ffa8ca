"""An ``az container create --file`` document runs as ``az`` would run it: its command
reaches the container as written, shell syntax that looks like a template included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

AZ_FILE = """\
apiVersion: 2019-12-01
type: Microsoft.ContainerInstance/containerGroups
name: {name}
location: westeurope
properties:
  osType: Linux
  restartPolicy: Never
  containers:
    - name: sh
      properties:
        image: {image}
        command: ["/bin/sh", "-c", "T=abc; echo ${{#T}} {{{{ x }}}}"]
        resources: {{requests: {{cpu: 1, memoryInGB: 0.5}}}}
"""


def test_az_file_command_runs_as_written(
    cli: Any, names: dict[str, str], test_image: str, aci_client: Any, cleanup: list[Path]
) -> None:
    az = cli.cwd / "literal.yaml"
    az.write_text(AZ_FILE.format(name=names["name"], image=test_image))
    cleanup.append(az)
    args = [str(az), "--workspace", cli.workspace, "--var", f"resourceGroup={names['rg']}"]

    cli("apply", "--yes", *args).expect(0)

    group = aci_client.container_groups.get(names["rg"], names["name"])
    assert group.containers[0].command == ["/bin/sh", "-c", "T=abc; echo ${#T} {{ x }}"]
    logs = cli("logs", *args, "--container", "sh").expect(0).out
    assert "3 {{ x }}" in logs.splitlines()
