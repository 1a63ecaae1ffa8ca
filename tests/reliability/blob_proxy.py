"""A small HTTP proxy in front of Azurite that injects faults, since Azurite has none.

Only requests from the Azure SDK (``User-Agent: azsdk-python-...``, the runner's own
clients) are faulted: the emulator's Batch nodes fetch resource files and upload outputs
through the same SAS URLs with urllib, and those pass untouched, as the storms are about
the runner's retries, not the nodes'.

Faults, as Azure Storage answers them: ``503`` (``ServerBusy`` with ``Retry-After``),
``500`` (``InternalError``), ``drop`` (the connection closes without an answer) and
``latency`` (the answer comes late). Rules: ``{"method": "PUT"|"*", "fault": ..., "count":
n, "retry_after": 1, "latency": 0.3}``; each rule fires ``count`` times.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}
ERRORS = {
    "503": (503, "ServerBusy", "The server is currently unable to receive requests."),
    "500": (500, "InternalError", "The server encountered an internal error."),
}


class BlobFaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rules: list[dict[str, Any]] = []
        self.counters: Counter[str] = Counter()  # "METHOD" of SDK requests, faulted or not
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> BlobFaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def set(self, rules: list[dict[str, Any]]) -> None:
        with self._lock:
            self.rules = [{**r, "hits": 0} for r in rules]
            self.counters.clear()

    def injected(self) -> int:
        with self._lock:
            return sum(r["hits"] for r in self.rules if r["fault"] != "latency")

    def writes(self) -> int:
        with self._lock:
            return sum(n for m, n in self.counters.items() if m in ("PUT", "DELETE", "POST"))

    def _pick(self, method: str) -> dict[str, Any] | None:
        with self._lock:
            self.counters[method] += 1
            for rule in self.rules:
                if rule.get("method", "*") not in ("*", method):
                    continue
                if rule["hits"] >= rule.get("count", 1):
                    continue
                rule["hits"] += 1
                return dict(rule)
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                rule = None
                if "azsdk-python" in self.headers.get("User-Agent", ""):
                    rule = proxy._pick(self.command)
                if rule is not None and rule["fault"] == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if rule is not None and rule["fault"] in ERRORS:
                    self._error(rule)
                    return
                if rule is not None and rule["fault"] == "latency":
                    time.sleep(float(rule.get("latency", 0.3)))
                self._forward(body)

            def _error(self, rule: dict[str, Any]) -> None:
                status, code, message = ERRORS[rule["fault"]]
                data = (
                    '<?xml version="1.0" encoding="utf-8"?>'
                    f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
                ).encode()
                self.send_response(status)
                self.send_header("x-ms-error-code", code)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(data)))
                if rule["fault"] == "503":
                    self.send_header("Retry-After", str(rule.get("retry_after", 1)))
                self.end_headers()
                self.wfile.write(data)

            def _forward(self, body: bytes | None) -> None:
                upstream = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    self.send_response(answer.status, answer.reason)
                    head = self.command == "HEAD"  # its Content-Length is the blob's size
                    for key, value in answer.getheaders():
                        lower = key.lower()
                        if lower not in HOP_BY_HOP and (head or lower != "content-length"):
                            self.send_header(key, value)
                    if not head:
                        self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _any

        return Handler
