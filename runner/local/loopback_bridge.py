"""The host's loopback ports, reachable from inside a container group's network namespace.

On Azure a container group reaches ``https://<account>.blob.core.windows.net`` at the very
URL runner's SAS signer hands out. The local target's URLs name ``127.0.0.1:<port>``, which
inside a group's own network namespace is the group's loopback, not the host's. So for
each port of the target, a socket listens on ``127.0.0.1:<port>`` *inside* the group's
namespace and every connection to it is relayed, byte for byte, to the same port on the
host. The group keeps its own namespace (its containers may listen on any port, as on
Azure, without meeting another group's).

A socket belongs to the network namespace its creating thread was in, and stays there:
a short-lived thread enters the namespace (``setns``, which on Linux changes the calling
thread only), makes and binds the listening sockets and leaves. Accepting and relaying run
in this process's own namespace, where ``127.0.0.1`` is the host's. Entering another
process's network namespace needs root (``CAP_SYS_ADMIN``) and a Docker engine on this
machine, whose container processes are this machine's.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

HOST = "127.0.0.1"
CLONE_NEWNET = 0x40000000
CHUNK = 65536
LISTEN_BACKLOG = 64


class BridgeUnavailable(RuntimeError):
    """This process cannot listen inside that namespace; the message says why."""


def open_bridge(pid: int, ports: Sequence[int], command_marker: bytes) -> LoopbackBridge:
    """A bridge into the network namespace of process ``pid``, for ``ports``.

    ``command_marker`` is a part of that process's command line, checked first: it tells
    that ``pid`` is the container's process on this machine (an engine elsewhere, or in a
    VM, numbers its processes apart from ours)."""
    if os.geteuid() != 0:
        raise BridgeUnavailable("entering a container's network namespace needs root")
    proc = Path(f"/proc/{pid}")
    try:
        command = (proc / "cmdline").read_bytes()
        theirs = os.stat(proc / "ns" / "net").st_ino
        ours = os.stat("/proc/self/ns/net").st_ino
    except OSError as exc:
        raise BridgeUnavailable(f"the container's process is not on this machine: {exc}") from None
    if command_marker not in command:
        raise BridgeUnavailable("the container's process is not on this machine")
    if theirs == ours:
        raise BridgeUnavailable("the container shares this process's network namespace")
    listeners = _listen_inside(proc / "ns" / "net", ports)
    return LoopbackBridge(listeners)


def _listen_inside(namespace: Path, ports: Sequence[int]) -> list[socket.socket]:
    made: list[socket.socket] = []
    failure: list[str] = []

    def enter_and_listen() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open(namespace, os.O_RDONLY)
            try:
                if libc.setns(target, CLONE_NEWNET) != 0:
                    failure.append(f"setns: {os.strerror(ctypes.get_errno())}")
                    return
            finally:
                os.close(target)
            try:
                for port in ports:
                    try:
                        made.append(_listener(port))
                    except OSError as exc:
                        failure.append(f"cannot listen on {HOST}:{port} there: {exc.strerror}")
                        return
            finally:
                # The thread ends here anyway; back home so nothing else of it runs there.
                libc.setns(own, CLONE_NEWNET)
        except OSError as exc:
            failure.append(str(exc))
        finally:
            os.close(own)

    worker = threading.Thread(target=enter_and_listen, name="loopback-bridge-setns")
    worker.start()
    worker.join()
    if failure:
        for sock in made:
            sock.close()
        raise BridgeUnavailable(failure[0])
    return made


def _listener(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


class LoopbackBridge:
    """Listening sockets inside one namespace, relaying to the same ports on the host."""

    def __init__(self, listeners: list[socket.socket]) -> None:
        self._listeners = listeners
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._closed = False
        for sock in listeners:
            port = sock.getsockname()[1]
            threading.Thread(
                target=self._accept, args=(sock, port), name=f"loopback-bridge-{port}", daemon=True
            ).start()

    @property
    def ports(self) -> list[int]:
        return [sock.getsockname()[1] for sock in self._listeners]

    def close(self) -> None:
        """Stops listening and ends every relayed connection, both ways."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            connections = list(self._connections)
        for sock in self._listeners:
            # Wakes the thread blocked in accept() (EINVAL on Linux), then frees the port.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def _accept(self, listener: socket.socket, port: int) -> None:
        while True:
            try:
                inner, _ = listener.accept()
            except OSError as exc:
                if exc.errno in (errno.EINTR, errno.ECONNABORTED):
                    continue
                return  # closed
            threading.Thread(
                target=self._connect, args=(inner, port), name=f"loopback-relay-{port}", daemon=True
            ).start()

    def _connect(self, inner: socket.socket, port: int) -> None:
        try:
            outer = socket.create_connection((HOST, port))
        except OSError:
            # Nothing listens on the host: the client sees its connection closed.
            inner.close()
            return
        with self._lock:
            if self._closed:
                inner.close()
                outer.close()
                return
            self._connections.update((inner, outer))
        pair = _Pair(inner, outer, self._forget)
        threading.Thread(target=pair.pump, args=(outer, inner), daemon=True).start()
        pair.pump(inner, outer)

    def _forget(self, inner: socket.socket, outer: socket.socket) -> None:
        with self._lock:
            self._connections.difference_update((inner, outer))


class _Pair:
    """One relayed connection: a pump per direction; the last one to end closes both."""

    def __init__(
        self,
        inner: socket.socket,
        outer: socket.socket,
        forget: Callable[[socket.socket, socket.socket], None],
    ) -> None:
        self.socks = (inner, outer)
        self._running = 2
        self._lock = threading.Lock()
        self._forget = forget

    def pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(CHUNK):
                dst.sendall(data)
            # The sender is done: so is its peer's reading, the other way may go on.
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
        except OSError:
            # A reset or a close: the whole connection is over, both ways.
            for sock in self.socks:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        with self._lock:
            self._running -= 1
            last = self._running == 0
        if last:
            for sock in self.socks:
                sock.close()
            self._forget(*self.socks)
