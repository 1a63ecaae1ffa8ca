"""``python -m runner.local serve --state-dir D``: the emulator process itself."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from runner.local.server import START_ERROR_FILE, StartError, serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m runner.local")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run the local target in the foreground")
    run.add_argument("--state-dir", type=Path, required=True)
    run.add_argument("--faults-file", type=Path)
    # The serve lock of the state folder, taken by the parent (``lifecycle.up``) and inherited.
    run.add_argument("--lock-fd", type=int, help=argparse.SUPPRESS)
    run.add_argument(
        "--runtime",
        choices=("docker", "instant"),
        default=os.environ.get("RUNNER_LOCAL_RUNTIME", "docker"),
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        serve(args.state_dir, args.faults_file, args.runtime, lock_fd=args.lock_fd)
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        (args.state_dir / START_ERROR_FILE).write_text(str(exc))
        sys.exit(3)


if __name__ == "__main__":
    main()
