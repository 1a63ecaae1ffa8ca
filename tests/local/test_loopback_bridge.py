"""The bridge from a container's network namespace to the host's loopback ports."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from runner.local.loopback_bridge import BridgeUnavailable, open_bridge

SLEEP = "2147483647"


@pytest.fixture
def holder(docker_client: Any, test_image: str) -> Iterator[Any]:
    """A container that only holds a network namespace, as a group's holder does."""
    container = docker_client.containers.run(
        test_image, [SLEEP], entrypoint=["sleep"], init=True, detach=True
    )
    try:
        container.reload()
        yield container
    finally:
        container.remove(force=True)


@pytest.fixture
def upper_server() -> Iterator[int]:
    """A host port answering one line with it in capitals, then closing."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as lines:
                conn.sendall(lines.readline().upper())

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def _inside(holder: Any, command: str) -> tuple[int, str]:
    code, out = holder.exec_run(["sh", "-c", command])
    return code, out.decode()


@pytest.mark.skipif(os.geteuid() != 0, reason="entering a namespace needs root")
def test_the_hosts_port_answers_inside_the_namespace_until_the_bridge_closes(
    holder: Any, upper_server: int
) -> None:
    port = upper_server
    assert _inside(holder, f"netstat -ltn | grep -c 127.0.0.1:{port}")[1].strip() == "0"

    bridge = open_bridge(int(holder.attrs["State"]["Pid"]), [port], SLEEP.encode())
    try:
        code, answer = _inside(holder, f"echo hello | nc 127.0.0.1 {port}")
        assert (code, answer) == (0, "HELLO\n")
    finally:
        bridge.close()

    listening = _inside(holder, f"netstat -ltn | grep -c 127.0.0.1:{port}")[1].strip()
    assert listening == "0", "the bridge still listens in the namespace after close"


def test_a_process_of_this_namespace_gets_no_bridge() -> None:
    # This process runs the marker's command: only the namespace tells it apart.
    with pytest.raises(BridgeUnavailable, match="root|shares this process's network"):
        open_bridge(os.getpid(), [1], b"python")


def test_a_process_that_is_not_the_containers_gets_no_bridge() -> None:
    with pytest.raises(BridgeUnavailable, match="root|not on this machine"):
        open_bridge(os.getpid(), [1], b"no such command line")
