"""The emulator process: ARM (with ACI), Batch and identity-platform apps on loopback HTTPS
ports, and Azurite (over HTTPS, taking bearer tokens, with ``RUNNER_LOCAL_BLOB_OAUTH=1``).

Started detached by ``runner.backends.local_target.up`` as ``python -m runner.local serve``;
writes ``status.json`` once every part answers and removes it when it stops. It serves its
state folder alone (``runner.local.processes``) and on the ports of its earlier starts
(``runner.local.endpoints``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from runner.local import processes
from runner.local.admin import admin_blueprint
from runner.local.context import ServiceContext
from runner.local.endpoints import PortTaken, listen, load_ports, save_ports
from runner.local.fault_hooks import install
from runner.local.faults import parse_rules
from runner.local.identity import Identity, create_identity_app, load_identity
from runner.local.layout import CHILDREN_FILE, STATUS_FILE, write_json
from runner.local.nodes import transfer
from runner.local.tls import CertPaths, ensure_certificate

HOST = "127.0.0.1"
# Set when the target starts: Azurite serves HTTPS and takes Entra tokens (user delegation
# SAS included), as Azure Storage does; plain HTTP with shared key and SAS otherwise.
BLOB_OAUTH_ENV = "RUNNER_LOCAL_BLOB_OAUTH"
log = logging.getLogger("runner.local")


class StartError(RuntimeError):
    """The emulator cannot serve its state folder; the message says why and what to do."""


def _start(app: Flask, sock: socket.socket, cert: Path, key: Path) -> BaseWSGIServer:
    port = sock.getsockname()[1]
    server = make_server(
        HOST, port, app, threaded=True, ssl_context=(str(cert), str(key)), fd=sock.fileno()
    )
    sock.close()  # the server serves a duplicate of it
    threading.Thread(target=server.serve_forever, name=f"serve-{app.name}", daemon=True).start()
    return server


def _hold_state_folder(state_dir: Path, lock_fd: int | None) -> int:
    """The fd of the serve lock, taken here or handed over by ``local_target.up``."""
    if lock_fd is None:
        fd = processes.try_lock(state_dir)
    else:
        fd = lock_fd
        try:
            # Succeeds at once on the lock the parent took: it is the same open file.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fd = None
    if fd is None:
        holder = processes.lock_holder(state_dir)
        who = f"process {holder}" if holder else "another process"
        raise StartError(
            f"{who} already serves the local target in {state_dir}; one emulator serves a "
            "state folder at a time. Use that one, or stop it with `runner local down`."
        )
    processes.record_holder(fd, os.getpid())
    return fd


def _make_runtime(ctx: ServiceContext, name: str) -> Any:
    if name == "instant":
        from runner.local.aci.instant import InstantRuntime

        return InstantRuntime()
    from runner.local.containers import DockerRuntime

    return DockerRuntime(ctx)


def _batch_app(ctx: ServiceContext, identity: Identity) -> Flask | None:
    try:
        from runner.local.batch.app import create_batch_app
    except ImportError as exc:  # part 2 of the local target may be absent
        log.warning("Batch API not available: %s", exc)
        return None
    app: Flask = create_batch_app(ctx, identity)
    install(app, ctx.faults, "batch")
    return app


def _azurite(ctx: ServiceContext, port: int, certs: CertPaths | None) -> Any:
    try:
        from runner.local.azurite import start_azurite
    except ImportError as exc:
        log.warning("Blob storage not available: %s", exc)
        return None
    try:
        if certs is None:
            return start_azurite(ctx.state_dir, port=port)
        return start_azurite(ctx.state_dir, port=port, tls=(certs.cert, certs.key), oauth=True)
    except PortTaken:
        raise
    except Exception:  # ARM and Batch still serve; the status shows storage as absent
        log.exception("Azurite did not start")
        return None


def _run_hooks(ctx: ServiceContext) -> None:
    for hook in reversed(ctx.shutdown_hooks):
        try:
            hook()
        except Exception:
            log.exception("shutdown hook failed")


def serve(
    state_dir: Path,
    faults_file: Path | None = None,
    runtime: str = "docker",
    lock_fd: int | None = None,
) -> None:
    """Runs until SIGTERM or SIGINT, then stops everything it started.

    Raises ``StartError`` when another process serves ``state_dir`` or a port it keeps is
    taken."""
    from runner.local.aci.app import create_arm_app

    state_dir = state_dir.resolve()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    _hold_state_folder(state_dir, lock_fd)
    try:
        with contextlib.ExitStack() as cleanup:
            _serve(state_dir, faults_file, runtime, stop, cleanup, create_arm_app)
    except PortTaken as exc:
        raise StartError(str(exc)) from None


def _serve(
    state_dir: Path,
    faults_file: Path | None,
    runtime: str,
    stop: threading.Event,
    cleanup: contextlib.ExitStack,
    create_arm_app: Callable[..., Flask],
) -> None:
    # Callbacks run last pushed first: status file, servers, runtime, hooks, Azurite, store.
    ctx = ServiceContext(state_dir)
    cleanup.callback(ctx.close)
    if faults_file is not None:
        ctx.faults.set_rules(parse_rules(json.loads(faults_file.read_text())))
    certs = ensure_certificate(state_dir)
    status: dict[str, Any] = {}

    def publish() -> None:
        status["docker"] = {"host": ctx.docker_host, "environment": ctx.docker_environment}
        # Not before the status is whole, nor after it was removed on the way out.
        if "pid" in status and not stop.is_set():
            write_json(state_dir / STATUS_FILE, status)

    identity = load_identity(state_dir)
    identity_app = create_identity_app(identity)
    group_runtime = _make_runtime(ctx, runtime)
    arm_app = create_arm_app(ctx, runtime=group_runtime, identity=identity)
    install(arm_app, ctx.faults, "arm")
    arm_app.register_blueprint(admin_blueprint(ctx, on_docker_switch=publish))

    kept = load_ports(state_dir)
    sockets = {"arm": listen(HOST, kept.get("arm", 0), "arm", state_dir)}
    cleanup.callback(sockets["arm"].close)
    sockets["identity"] = listen(HOST, kept.get("identity", 0), "identity", state_dir)
    cleanup.callback(sockets["identity"].close)
    # A stop asked for while starting (down of an interrupted start) ends the start at
    # the next step, before the slow ones, rather than after all of them.
    if stop.is_set():
        return
    blob_oauth = os.environ.get(BLOB_OAUTH_ENV) == "1"
    if blob_oauth:
        transfer.trust(certs.cert)
    azurite = _azurite(ctx, kept.get("blob", 0), certs if blob_oauth else None)
    if azurite is not None:
        cleanup.callback(azurite.stop)
    write_json(state_dir / CHILDREN_FILE, {"azurite": azurite.pid} if azurite else {})
    cleanup.callback(_run_hooks, ctx)
    if stop.is_set():
        return
    # After Azurite: the Batch scheduler at once runs the tasks a restart requeued, and
    # they fetch their files from it.
    batch_app = _batch_app(ctx, identity)
    if batch_app is not None:
        sockets["batch"] = listen(HOST, kept.get("batch", 0), "batch", state_dir)
        cleanup.callback(sockets["batch"].close)
    cleanup.callback(group_runtime.stop)

    ports = {role: sock.getsockname()[1] for role, sock in sockets.items()}
    if azurite is not None:
        ports["blob"] = urlsplit(azurite.blob_endpoint).port or 0
    save_ports(state_dir, {**kept, **ports})

    apps = {"arm": arm_app, "identity": identity_app}
    if batch_app is not None:
        apps["batch"] = batch_app
    identity.authority = f"https://{HOST}:{ports['identity']}"
    for role, app in apps.items():
        cleanup.callback(_start(app, sockets[role], certs.cert, certs.key).shutdown)
    arm_url = f"https://{HOST}:{ports['arm']}"
    status.update(
        {
            "arm": {"endpoint": arm_url, "subscription": ctx.settings.subscription},
            "batch": None,
            "storage": None,
            "identity": {
                "authority": identity.authority,
                "tenant": identity.tenant,
                "client_id": identity.client_id,
                "client_secret": identity.client_secret,
            },
            "ca_bundle": str(certs.cert),
            "control": f"{arm_url}/_runner",
            "pid": os.getpid(),
            "state_dir": str(state_dir),
        }
    )
    if batch_app is not None:
        status["batch"] = {
            "url": f"https://{HOST}:{ports['batch']}",
            "account": ctx.settings.batch_account,
            "key": ctx.settings.batch_key,
        }
    if azurite is not None:
        status["storage"] = {
            "account": azurite.account,
            "connection_string": azurite.connection_string,
            "blob_endpoint": azurite.blob_endpoint,
            "oauth": blob_oauth,
            "pid": azurite.pid,
        }
    if stop.is_set():
        return
    group_runtime.start()
    cleanup.callback(lambda: (state_dir / STATUS_FILE).unlink(missing_ok=True))
    publish()
    log.info("local target ready: %s", arm_url)
    stop.wait()
    log.info("local target stopping")
