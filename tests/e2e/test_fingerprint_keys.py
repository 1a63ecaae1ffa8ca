"""Secure values between machines with different fingerprint keys, through the CLI and
the local target: the tags hold keyed fingerprints, and a machine with another key says
it cannot compare and sends the value again, after which its own plans are no-ops."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

TOKEN = "tok-4821"
ANOTHER = "the-other-machines-key-0123456789"
SAYS = "cannot be compared, as its fingerprint was made with another key: it will be sent again"


def test_a_machine_with_another_key_sends_the_secure_value_again(
    cli: Any, tmp_path: Path, names: dict[str, str], test_image: str, spec: Any, aci_client: Any
) -> None:
    this_env = {k: v for k, v in cli.env.items() if k != "RUNNER_FINGERPRINT_KEY"}
    this_env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    this = type(cli)(cwd=cli.cwd, workspace=cli.workspace, env=this_env)
    other = type(cli)(
        cwd=cli.cwd,
        workspace=cli.workspace,
        env={**this_env, "RUNNER_FINGERPRINT_KEY": ANOTHER},
    )
    args = cli.spec_args(spec("single"), image=test_image, token=TOKEN, **names)
    address = f"ContainerGroup/{names['rg']}/{names['name']}"
    try:
        this("apply", "--yes", *args).expect(0)
        key_file = tmp_path / "config" / "runner" / "fingerprint.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        tags = aci_client.container_groups.get(names["rg"], names["name"]).tags
        fingerprint = tags["runner-fp-app.API_TOKEN"]
        assert fingerprint.startswith("fp:") and TOKEN not in json.dumps(tags)
        this("plan", "--detailed-exitcode", *args).expect(0)

        text = other("plan", "--detailed-exitcode", *args).expect(2).out
        assert f"secure value containers[app].secureEnv.API_TOKEN {SAYS}" in text
        plan = json.loads(other("plan", "--output", "json", *args).expect(0).out)
        (change,) = [c for c in plan["changes"] if c["address"] == address]
        assert change["action"] == "update" and SAYS in change["reason"]
        assert change["paths"] == ["containers[app].secureEnv.API_TOKEN"]

        other("apply", "--yes", *args).expect(0)
        other("plan", "--detailed-exitcode", *args).expect(0)
        tags = aci_client.container_groups.get(names["rg"], names["name"]).tags
        assert tags["runner-fp-app.API_TOKEN"] != fingerprint  # remade with the other key
        assert SAYS in this("plan", *args).expect(0).out
    finally:
        this("destroy", "--yes", "--workspace", cli.workspace)
