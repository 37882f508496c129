"""The site's primary, played by a small web server on loopback that can be stopped and started.

Stopped means the port refuses connections, as a crashed origin or a drained load balancer does.
Failing (`failing_percent`) means it still answers, but that share of its pages are 500s while its
health path answers 200: an application whose health endpoint checks only that the process is up.
Every answered request is reported to `on_request` (status, User-Agent): what a load balancer in
front of it would count.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from detour_cli.local.fake_slack import free_port

BODY = b"<!doctype html><title>primary</title><h1>Served by the primary</h1><p>status: ok</p>"
FAILED = b"<!doctype html><title>500</title><h1>Internal Server Error</h1><p>could not reach the database</p>"
HEALTH_PATH = "/health"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        primary = self.server.primary
        status, body = (200, BODY) if self.path == primary.health_path or not primary.fails_next() else (500, FAILED)
        if primary.on_request is not None:  # counted before the client can have its answer
            primary.on_request(status, self.headers.get("User-Agent", ""))
        self.send_response(status)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    primary: LocalPrimary

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # the client left first (a checker read enough)
            return
        super().handle_error(request, client_address)


class LocalPrimary:
    def __init__(self, port: int | None = None, health_path: str = HEALTH_PATH) -> None:
        self.port = port or free_port()
        self.health_path = health_path
        self.failing_percent = 0  # of the pages (not the health path) answered 500
        self.on_request: Callable[[int, str], None] | None = None
        self._server: _Server | None = None
        self._pages = 0
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._server is not None

    def fails_next(self) -> bool:
        """Whether the next page fails: exactly `failing_percent` of pages, spread evenly."""
        with self._lock:
            before, self._pages = self._pages, self._pages + 1
            return (self._pages * self.failing_percent) // 100 != (before * self.failing_percent) // 100

    def start(self) -> None:
        if self._server is None:
            self._server = _Server(("127.0.0.1", self.port), _Handler)
            self._server.primary = self
            threading.Thread(target=self._server.serve_forever, name="local-primary", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
