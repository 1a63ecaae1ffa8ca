"""Settings of one local target, made on first start and kept in its state folder."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from runner.local.layout import SETTINGS_FILE

# A fixed, recognisable subscription: any subscription id in a URL is accepted anyway.
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Settings:
    subscription: str
    batch_account: str
    batch_key: str
    # Labels this target's Docker containers, so ``down`` removes its own and no others.
    instance_id: str
    location: str = "westeurope"
    # How much faster than Azure the local Batch account's autoscale clock runs: evaluation
    # intervals, sample periods and formulas' time intervals alike, so a formula's windows
    # still hold the samples it expects (300: 5 minutes pass in a second, a 30-second
    # sample every 0.1 s).
    autoscale_speedup: float = 300.0


def load_settings(state_dir: Path) -> Settings:
    """Reads the settings of ``state_dir``, making and saving them on first use."""
    path = state_dir / SETTINGS_FILE
    if path.exists():
        return Settings(**json.loads(path.read_text()))
    settings = Settings(
        subscription=DEFAULT_SUBSCRIPTION,
        batch_account="local",
        batch_key=base64.b64encode(secrets.token_bytes(64)).decode(),
        instance_id=secrets.token_hex(6),
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=2))
    tmp.replace(path)
    return settings
