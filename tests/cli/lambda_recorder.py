"""Lambda's Invoke API on loopback, recording what it is asked: moto's Lambda cannot run code without
Docker, so the verbs' calls to refresh_page and notify_slack are pointed here
(AWS_ENDPOINT_URL_LAMBDA) and the tests read the events they carried."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from detour_cli.local.fake_slack import free_port

INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")


@dataclass(frozen=True)
class Invocation:
    function: str
    invocation_type: str
    event: Any


class LambdaRecorder:
    def __init__(self, *, refuse: bool = False) -> None:
        self.invocations: list[Invocation] = []
        self.refuse = refuse  # answer as Lambda does when the caller may not invoke
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                found = INVOKE.match(self.path.split("?", 1)[0])
                if found is None:
                    self._answer(404, {"Type": "User", "message": f"not Invoke: {self.path}"})
                    return
                if recorder.refuse:
                    self._answer(
                        403,
                        {"Type": "User", "message": "not authorized to perform: lambda:InvokeFunction"},
                        error="AccessDeniedException",
                    )
                    return
                recorder.invocations.append(
                    Invocation(
                        function=unquote(found.group(1)),
                        invocation_type=self.headers.get("X-Amz-Invocation-Type", "RequestResponse"),
                        event=json.loads(body or b"null"),
                    )
                )
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _answer(self, status: int, payload: dict[str, Any], error: str = "ResourceNotFoundException") -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Amzn-ErrorType", error)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LambdaRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def events(self, function: str) -> list[Any]:
        return [i.event for i in self.invocations if i.function == function]
