"""Options shared by every command that reads specs: --var, --var-file, --target, --output,
--workspace. Importing this module imports neither the SDKs nor rich."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from runner.spec.loader import LoadedSpec

F = TypeVar("F", bound=Callable[..., Any])


class UsageError(click.UsageError):
    """A misused command. Exits 1, not click's 2: ``plan --detailed-exitcode`` keeps 2 for
    "there are changes", so an error must never look like one."""

    exit_code = 1


class BadParameter(click.BadParameter):
    exit_code = 1


@dataclass(frozen=True)
class SpecOptions:
    variables: dict[str, str]
    var_files: tuple[str, ...]
    target: str | None
    output: str
    workspace: str | None

    def load(
        self, paths: tuple[str, ...] | list[str], *, check_files: bool = False
    ) -> list[LoadedSpec]:
        """``check_files``: also check the local files the specs name (inputs, start task
        files, collect folders), so that ``plan`` and ``apply`` stop before they reach
        a target, let alone create anything."""
        from runner.spec.loader import load_specs

        specs = load_specs(list(paths), variables=self.variables, var_files=self.var_files)
        if check_files:
            from runner.spec.files import raise_file_problems

            raise_file_problems(specs)
        return specs

    def workspace_name(self) -> str:
        from runner.engine.workspace import workspace_name

        return workspace_name(self.workspace)

    def get_target(self) -> Any:
        from runner.backends.target import get_target

        return get_target(self.target)


def parse_var(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict:
    variables: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--var")
        variables[name.strip()] = value
    return variables


def ttl_option(value: str | None) -> timedelta | None:
    """``--ttl``: a duration as a spec's ``ttl`` takes it."""
    if value is None:
        return None
    from runner.spec.base import parse_ttl

    try:
        ttl = parse_ttl(value)
    except ValueError as exc:
        raise BadParameter(str(exc), param_hint="--ttl") from exc
    return ttl if isinstance(ttl, timedelta) else None


def rerun_failed_option(f: F) -> F:
    """``--rerun-failed``: the failed tasks of a kept Batch job run again."""
    return click.option(
        "--rerun-failed",
        is_flag=True,
        help="Run the failed tasks of a Batch job kept from an earlier apply (teardown.job: "
        "never) again, and only them: completed tasks never run twice.",
    )(f)


def rerun_option(f: F) -> F:
    """``--rerun NAME``: a step done before runs again."""
    return click.option(
        "--rerun",
        "rerun",
        multiple=True,
        metavar="NAME",
        help="Run NAME again (a BatchJob spec or a workflow step, by name; repeatable) even "
        "though its results are recorded as done on the same definition and inputs.",
    )(f)


def output_option(f: F) -> F:
    return click.option(
        "--output",
        "-o",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="text for people, json for machines.",
    )(f)


def spec_options(f: F) -> F:
    """Adds the shared options and passes them to the command as ``opts: SpecOptions``."""

    def wrapper(**kwargs: Any) -> Any:
        kwargs["opts"] = SpecOptions(
            variables=kwargs.pop("var"),
            var_files=kwargs.pop("var_file"),
            target=kwargs.pop("target"),
            output=kwargs.pop("output"),
            workspace=kwargs.pop("workspace"),
        )
        return f(**kwargs)

    wrapper.__name__ = f.__name__
    wrapper.__doc__ = f.__doc__
    decorated: Any = wrapper
    for option in reversed(
        [
            click.option(
                "--var",
                multiple=True,
                callback=parse_var,
                metavar="NAME=VALUE",
                help="Set a spec variable (repeatable).",
            ),
            click.option(
                "--var-file",
                multiple=True,
                type=click.Path(exists=True, dir_okay=False, path_type=str),
                help="Read variables from a YAML file (repeatable).",
            ),
            click.option(
                "--target",
                envvar="RUNNER_TARGET",
                default=None,
                metavar="local|azure",
                help="Where to run: local (default) or azure. Env: RUNNER_TARGET.",
            ),
            click.option(
                "--workspace",
                default=None,
                help=(
                    "Ownership scope tagged on resources (default: this folder's, from its "
                    "repository's remote and its path in it)."
                ),
            ),
            output_option,
        ]
    ):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


def absolute(paths: tuple[str, ...]) -> list[str]:
    return [str(Path(p).resolve()) for p in paths]
