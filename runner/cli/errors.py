"""User errors print cleanly and exit with their code; anything else is a bug."""

from __future__ import annotations

import sys

import click

from runner.errors import RunnerError

EXIT_ERROR = 1


def handle_errors(command: click.Group) -> None:
    try:
        command.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        # Click exits 2 on a usage error, which `plan --detailed-exitcode` means as "there
        # are changes": every error exits 1.
        sys.exit(EXIT_ERROR)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except RunnerError as exc:
        from runner.render.errors import print_error

        print_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
