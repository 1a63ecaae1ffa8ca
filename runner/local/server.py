"""The emulator process: ARM (with ACI) and Batch apps on two loopback HTTPS ports.

Started detached by ``runner.local.lifecycle.up`` as ``python -m runner.local serve``;
writes ``status.json`` once every part answers and removes it when it stops.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from runner.local.admin import admin_blueprint
from runner.local.context import ServiceContext
from runner.local.faults import install, parse_rules
from runner.local.tls import ensure_certificate

STATUS_FILE = "status.json"
CHILDREN_FILE = "children.json"
HOST = "127.0.0.1"
log = logging.getLogger("runner.local")


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def _start(app: Flask, cert: Path, key: Path) -> BaseWSGIServer:
    server = make_server(HOST, 0, app, threaded=True, ssl_context=(str(cert), str(key)))
    threading.Thread(target=server.serve_forever, name=f"serve-{app.name}", daemon=True).start()
    return server


def _make_runtime(ctx: ServiceContext, name: str) -> Any:
    if name == "instant":
        from runner.local.aci.instant import InstantRuntime

        return InstantRuntime(ctx)
    from runner.local.containers import DockerRuntime

    return DockerRuntime(ctx)


def _batch_app(ctx: ServiceContext) -> Flask | None:
    try:
        from runner.local.batch.app import create_batch_app
    except ImportError as exc:  # part 2 of the local target may be absent
        log.warning("Batch API not available: %s", exc)
        return None
    app: Flask = create_batch_app(ctx)
    install(app, ctx, "batch")
    return app


def _azurite(ctx: ServiceContext) -> Any:
    try:
        from runner.local.azurite import start_azurite
    except ImportError as exc:
        log.warning("Blob storage not available: %s", exc)
        return None
    try:
        return start_azurite(ctx.state_dir)
    except Exception:  # ARM and Batch still serve; the status shows storage as absent
        log.exception("Azurite did not start")
        return None


def serve(state_dir: Path, faults_file: Path | None = None, runtime: str = "docker") -> None:
    """Runs until SIGTERM or SIGINT, then stops everything it started."""
    from runner.local.aci.app import create_arm_app

    state_dir = state_dir.resolve()
    ctx = ServiceContext(state_dir)
    if faults_file is not None:
        ctx.faults.set_rules(parse_rules(json.loads(faults_file.read_text())))
    certs = ensure_certificate(state_dir)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    group_runtime = _make_runtime(ctx, runtime)
    arm_app = create_arm_app(ctx, runtime=group_runtime)
    install(arm_app, ctx, "arm")
    arm_app.register_blueprint(admin_blueprint(ctx))
    batch_app = _batch_app(ctx)
    azurite = _azurite(ctx)
    servers = [_start(arm_app, certs.cert, certs.key)]
    if batch_app is not None:
        servers.append(_start(batch_app, certs.cert, certs.key))
    arm_url = f"https://{HOST}:{servers[0].server_port}"
    children = {"azurite": azurite.pid} if azurite is not None else {}
    write_json(state_dir / CHILDREN_FILE, children)
    status = {
        "arm": {"endpoint": arm_url, "subscription": ctx.settings.subscription},
        "batch": None,
        "storage": None,
        "ca_bundle": str(certs.cert),
        "control": f"{arm_url}/_runner",
        "pid": os.getpid(),
    }
    if batch_app is not None:
        status["batch"] = {
            "url": f"https://{HOST}:{servers[1].server_port}",
            "account": ctx.settings.batch_account,
            "key": ctx.settings.batch_key,
        }
    if azurite is not None:
        status["storage"] = {
            "account": azurite.account,
            "connection_string": azurite.connection_string,
            "blob_endpoint": azurite.blob_endpoint,
        }
    group_runtime.start()
    write_json(state_dir / STATUS_FILE, status)
    log.info("local target ready: %s", arm_url)
    try:
        stop.wait()
    finally:
        log.info("local target stopping")
        (state_dir / STATUS_FILE).unlink(missing_ok=True)
        for server in servers:
            server.shutdown()
        group_runtime.stop()
        for hook in reversed(ctx.shutdown_hooks):
            try:
                hook()
            except Exception:
                log.exception("shutdown hook failed")
        if azurite is not None:
            azurite.stop()
        ctx.close()
