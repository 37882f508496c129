"""A stand-in for CloudFormation's presigned ResponseURL: a loopback HTTP server that keeps each PUT
a custom resource sends (the rehearsal and the tests use it), and a custom resource request sent as
CloudFormation sends it."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
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


def custom_resource_request(
    invoke: Callable[[dict[str, Any]], object],
    *,
    request_type: str,
    stack_name: str,
    logical_id: str,
    resource_type: str,
    properties: dict[str, Any],
    physical_id: str | None = None,
) -> dict[str, Any]:
    """One custom resource request as CloudFormation sends it (its ServiceToken among the properties),
    handed to `invoke` (the service token's function); returns the answer the function PUT to the
    ResponseURL (a loopback catcher here). A function that answers nothing is an error, not a hang."""
    with cfn_response_endpoint() as catcher:
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": catcher.url,
            "StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{stack_name}/local",
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceProperties": properties,
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        invoke(event)
        if not catcher.responses:
            raise RuntimeError(f"{logical_id} ({resource_type}): the function sent CloudFormation no answer")
        return catcher.responses[-1]
