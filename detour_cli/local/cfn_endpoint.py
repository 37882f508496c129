"""A stand-in for CloudFormation's presigned ResponseURL: a loopback HTTP server that keeps each PUT
a custom resource sends (the rehearsal and the tests use it)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ResponseCatcher:
    url: str
    responses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def only(self) -> dict[str, Any]:
        (response,) = self.responses
        return response


@contextmanager
def cfn_response_endpoint() -> Iterator[ResponseCatcher]:
    caught: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            caught.append({"path": self.path, "content_type": self.headers.get("Content-Type"), **json.loads(body)})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ResponseCatcher(f"http://127.0.0.1:{server.server_port}/cfn-response?X-Amz-Signature=abc", caught)
    finally:
        server.shutdown()
        server.server_close()
