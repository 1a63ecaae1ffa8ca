"""``python -m runner.local``: the emulator process itself (``serve``), and the commands its
client (``runner.backends.local_target``) runs for what needs the server's libraries:
checking fault rules and removing the Docker containers of a target that died.

Each command imports what it needs in its own body, so none pays for the others."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from runner.local.layout import START_ERROR_FILE


def _serve(args: argparse.Namespace) -> None:
    from runner.local.server import StartError, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        serve(args.state_dir, args.faults_file, args.runtime, lock_fd=args.lock_fd)
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        (args.state_dir / START_ERROR_FILE).write_text(str(exc))
        sys.exit(3)


def _fault_rules(args: argparse.Namespace) -> None:
    """Prints the rules as the admin API takes them; exit 2 with the reason when invalid."""
    from runner.local.faults import parse_rule_text, parse_rules

    rules: list[dict[str, Any]] = []
    try:
        if args.faults_file is not None:
            data = json.loads(args.faults_file.read_text())
            rules += [r.to_dict() for r in parse_rules(data)]
            for rule in rules:
                rule.pop("hits", None)
        rules += [parse_rule_text(text) for text in args.fault]
    except (OSError, ValueError) as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    print(json.dumps(rules))


def _remove_containers(args: argparse.Namespace) -> None:
    from runner.local.containers import remove_owned_containers

    for engine in args.engine:
        remove_owned_containers(args.instance, json.loads(engine))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m runner.local")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run the local target in the foreground")
    run.add_argument("--state-dir", type=Path, required=True)
    run.add_argument("--faults-file", type=Path)
    # The serve lock of the state folder, taken by the parent (``local_target.up``) and
    # inherited.
    run.add_argument("--lock-fd", type=int, help=argparse.SUPPRESS)
    run.add_argument(
        "--runtime",
        choices=("docker", "instant"),
        default=os.environ.get("RUNNER_LOCAL_RUNTIME", "docker"),
    )
    run.set_defaults(handler=_serve)
    rules = sub.add_parser("fault-rules", help="check fault rules, print them as JSON")
    rules.add_argument("--fault", action="append", default=[], metavar="RULE")
    rules.add_argument("--faults-file", type=Path)
    rules.set_defaults(handler=_fault_rules)
    remove = sub.add_parser(
        "remove-containers", help="remove the Docker containers of a target instance"
    )
    remove.add_argument("--instance", required=True)
    remove.add_argument(
        "--engine", action="append", default=[], help="Docker variables, as a JSON object"
    )
    remove.set_defaults(handler=_remove_containers)
    args = parser.parse_args()
    args.handler(args)


if __name__ == "__main__":
    main()
