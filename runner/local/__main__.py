"""``python -m runner.local serve --state-dir D``: the emulator process itself."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from runner.local.server import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m runner.local")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run the local target in the foreground")
    run.add_argument("--state-dir", type=Path, required=True)
    run.add_argument("--faults-file", type=Path)
    run.add_argument(
        "--runtime",
        choices=("docker", "instant"),
        default=os.environ.get("RUNNER_LOCAL_RUNTIME", "docker"),
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve(args.state_dir, args.faults_file, args.runtime)


if __name__ == "__main__":
    main()
