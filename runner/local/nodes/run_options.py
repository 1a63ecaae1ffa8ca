"""A container task's ``containerRunOptions``, read as ``docker create`` reads them.

Batch hands the string to ``docker create`` on the node, after its own options (the
TaskContainerSettings docs). The local node creates containers through the Docker API, so
the options it knows are turned into that API's arguments; any other one fails the task
(``ContainerInvalidSettings``) naming it, rather than being dropped without a word.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

Options = dict[str, Any]


class RunOptionError(ValueError):
    """An option the local node cannot honour, or one written wrong."""


def _env(options: Options, value: str) -> None:
    name, sep, item = value.partition("=")
    if not name:
        raise RunOptionError(f"--env {value!r} names no variable")
    options.setdefault("environment", {})[name] = item if sep else None


def _volume(options: Options, value: str) -> None:
    parts = value.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise RunOptionError(f"--volume {value!r} is not host-path:container-path[:mode]")
    mode = parts[2] if len(parts) == 3 else "rw"
    options.setdefault("volumes", {})[parts[0]] = {"bind": parts[1], "mode": mode}


def _cpus(options: Options, value: str) -> None:
    try:
        options["nano_cpus"] = int(float(value) * 1e9)
    except ValueError:
        raise RunOptionError(f"--cpus {value!r} is not a number") from None


def _listed(key: str) -> Callable[[Options, str], None]:
    def add(options: Options, value: str) -> None:
        options.setdefault(key, []).append(value)

    return add


def _label(options: Options, value: str) -> None:
    name, _, item = value.partition("=")
    options.setdefault("labels", {})[name] = item


def _host(options: Options, value: str) -> None:
    name, sep, address = value.partition(":")
    if not sep:
        raise RunOptionError(f"--add-host {value!r} is not host:address")
    options.setdefault("extra_hosts", {})[name] = address


def _set(key: str) -> Callable[[Options, str], None]:
    def put(options: Options, value: str) -> None:
        options[key] = value

    return put


def _entrypoint(options: Options, value: str) -> None:
    # As the docker CLI: the value is the program, not split into words.
    options["entrypoint"] = [value] if value else [""]


# Options that take a value: docker create's long and short names -> how it is kept.
VALUED: dict[str, Callable[[Options, str], None]] = {
    "--env": _env,
    "-e": _env,
    "--volume": _volume,
    "-v": _volume,
    "--workdir": _set("working_dir"),
    "-w": _set("working_dir"),
    "--user": _set("user"),
    "-u": _set("user"),
    "--entrypoint": _entrypoint,
    "--network": _set("network_mode"),
    "--net": _set("network_mode"),
    "--memory": _set("mem_limit"),
    "-m": _set("mem_limit"),
    "--memory-swap": _set("memswap_limit"),
    "--shm-size": _set("shm_size"),
    "--cpus": _cpus,
    "--hostname": _set("hostname"),
    "-h": _set("hostname"),
    "--ipc": _set("ipc_mode"),
    "--label": _label,
    "-l": _label,
    "--add-host": _host,
    "--cap-add": _listed("cap_add"),
    "--cap-drop": _listed("cap_drop"),
}
# Flags: name -> (docker API argument, value); None: accepted, nothing to do (--rm: a
# task's container is removed once the task has ended anyway).
FLAGS: dict[str, tuple[str, Any] | None] = {
    "--rm": None,
    "--init": ("init", True),
    "--privileged": ("privileged", True),
    "--read-only": ("read_only", True),
}


def parse(text: str | None) -> Options:
    """The Docker API arguments ``text`` asks for (``RunOptionError`` if it cannot be)."""
    try:
        words = shlex.split(text or "")
    except ValueError as err:
        raise RunOptionError(f"containerRunOptions cannot be read: {err}") from None
    options: Options = {}
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        name, sep, inline = word.partition("=") if word.startswith("--") else (word, "", "")
        if name in FLAGS and not sep:
            flag = FLAGS[name]
            if flag is not None:
                options[flag[0]] = flag[1]
            continue
        if name not in VALUED:
            if len(name) > 2 and name[:2] in VALUED and not name.startswith("--"):
                name, inline, sep = name[:2], name[2:], "="  # -eNAME=value
            else:
                raise RunOptionError(
                    f"containerRunOptions {word!r} is not an option the local target's "
                    "Docker engine takes for a task"
                )
        if not sep:
            if index >= len(words):
                raise RunOptionError(f"containerRunOptions {name} needs a value")
            inline = words[index]
            index += 1
        VALUED[name](options, inline)
    return options
