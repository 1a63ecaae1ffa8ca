"""This machine's fingerprint key: RUNNER_FINGERPRINT_KEY, else a private key file made
on first use, and none at all for specs without secure values."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from runner.engine.fingerprint_key import ENV, key_file, key_for, machine_key
from runner.errors import RunnerError
from runner.plan.canonical import FingerprintKey
from runner.spec.models import ContainerGroup


def group(**container: object) -> ContainerGroup:
    return ContainerGroup.model_validate(
        {
            "kind": "ContainerGroup",
            "name": "web",
            "resourceGroup": "rg",
            "containers": [{"name": "app", "image": "busybox:1", **container}],
        }
    )


def test_the_environment_key_wins(tmp_path: Path) -> None:
    env = {ENV: "0123456789abcdef-shared-by-ci", "XDG_CONFIG_HOME": str(tmp_path)}
    assert machine_key(env) == FingerprintKey(b"0123456789abcdef-shared-by-ci")
    assert not key_file(env).exists()


def test_a_short_environment_key_is_refused() -> None:
    with pytest.raises(RunnerError, match="at least 16 characters"):
        machine_key({ENV: "1234"})


def test_the_key_file_is_made_private_on_first_use_then_kept(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    first = machine_key(env)
    path = tmp_path / "config" / "runner" / "fingerprint.key"
    assert key_file(env) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(path.read_text().strip()) == 64  # 32 random bytes, hex
    assert machine_key(env) == first
    assert [p.name for p in path.parent.iterdir()] == ["fingerprint.key"]


def test_first_uses_at_once_agree_on_one_key(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    ids: list[str] = []
    start = threading.Barrier(8)

    def use() -> None:
        start.wait()
        ids.append(machine_key(env).id)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 8 and len(set(ids)) == 1


def test_a_relative_xdg_config_home_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert key_file({"XDG_CONFIG_HOME": "relative/config"}) == (
        tmp_path / ".config" / "runner" / "fingerprint.key"
    )


def test_a_key_file_that_cannot_be_read_says_what_to_do(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    key_file(env).mkdir(parents=True)  # a folder where the file should be
    with pytest.raises(RunnerError, match=f"set {ENV} instead"):
        machine_key(env)


def test_no_key_is_looked_for_without_secure_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert key_for([group(env={"MODE": "plain"})]) is None
    assert not key_file().exists()
    made = key_for([group(secureEnv={"TOKEN": "t"})])
    assert made is not None and key_file().exists()
    given = FingerprintKey(b"given-by-the-caller-0123")
    assert key_for([group(secureEnv={"TOKEN": "t"})], given) is given
