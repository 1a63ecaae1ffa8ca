"""Where the key of secure-value fingerprints comes from, on every target alike.

``RUNNER_FINGERPRINT_KEY`` when set (at least 16 characters: share it, as a CI secret
say, between the machines that apply the same specs, so they can compare each other's
fingerprints); else the key file ``$XDG_CONFIG_HOME/runner/fingerprint.key`` (by default
``~/.config/runner/fingerprint.key``), made on first use with 32 random bytes and mode
0600. Never in a spec, never in a tag: tags carry only the key's id.

The key is read only when a spec holds a secure value, so a machine that never uses one
never gets a key file.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from runner.errors import RunnerError
from runner.plan.aci import needs_key
from runner.plan.canonical import MIN_KEY_BYTES, FingerprintKey
from runner.spec.models import ContainerGroup

ENV = "RUNNER_FINGERPRINT_KEY"


def key_file(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    config = env.get("XDG_CONFIG_HOME", "")
    # The XDG spec says a relative XDG_CONFIG_HOME is to be ignored.
    base = Path(config) if config and Path(config).is_absolute() else Path.home() / ".config"
    return base / "runner" / "fingerprint.key"


def machine_key(env: Mapping[str, str] | None = None) -> FingerprintKey:
    env = os.environ if env is None else env
    given = env.get(ENV, "").strip()
    if given:
        if len(given.encode()) < MIN_KEY_BYTES:
            raise RunnerError(
                f"{ENV} is too short to keep secure values from being guessed: give at "
                f"least {MIN_KEY_BYTES} characters (`openssl rand -hex 32` makes one)"
            )
        return FingerprintKey(given.encode())
    path = key_file(env)
    try:
        text = path.read_text(encoding="utf-8").strip() if path.exists() else _create(path)
    except OSError as exc:
        raise RunnerError(
            f"cannot read or create the fingerprint key {path} ({exc.strerror or exc}); "
            f"set {ENV} instead"
        ) from exc
    if len(text.encode()) < MIN_KEY_BYTES:
        raise RunnerError(
            f"the fingerprint key {path} holds fewer than {MIN_KEY_BYTES} characters: "
            f"remove it to have a new one made, or set {ENV}"
        )
    return FingerprintKey(text.encode())


def key_for(
    groups: Iterable[ContainerGroup], given: FingerprintKey | None = None
) -> FingerprintKey | None:
    """``given``, else this machine's key when a group holds a secure value, else None."""
    if given is not None:
        return given
    return machine_key() if any(needs_key(g) for g in groups) else None


def _create(path: Path) -> str:
    """Writes a new key where no other process can see it half written: a private file
    linked into place, so of two first uses at once one key wins and both read it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = secrets.token_hex(32)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            return path.read_text(encoding="utf-8").strip()
    finally:
        temp.unlink(missing_ok=True)
    return text
