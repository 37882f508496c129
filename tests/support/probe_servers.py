"""Local primaries for `detour preflight`'s probe: an HTTP(S) server that answers as it is told (a
status, a redirect, a slow first byte, a body with a search string at a chosen byte) and records
what the probe sent (path, Host header, SNI), and a listener whose accept queue is full, so a TCP
connection to it never completes (the slow connect)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any


@dataclass
class Answer:
    """What the primary answers: status, body, a Location, after a delay before the first byte."""

    status: int = 200
    body: bytes = b"ok"
    location: str = ""
    delay_s: float = 0.0


def body_with(text: str, at: int, size: int = 16 * 1024) -> bytes:
    """A body of `size` bytes with `text` starting at byte `at`."""
    filler = b"x" * size
    return filler[:at] + text.encode() + filler[at + len(text) :]


@dataclass
class Seen:
    path: str
    host: str
    sni: str | None


@dataclass
class ProbeTarget:
    """A primary on 127.0.0.1; `tls` = (certificate, key) paths for HTTPS."""

    answer: Answer = field(default_factory=Answer)
    tls: tuple[Path, Path] | None = None
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: Any = None
    _sni: dict[int, str | None] = field(default_factory=dict)

    def __enter__(self) -> ProbeTarget:
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                sni = getattr(self.connection, "detour_sni", None)
                target.seen.append(Seen(self.path, self.headers.get("Host", ""), sni))
                answer = target.answer
                time.sleep(answer.delay_s)
                try:
                    self.send_response(answer.status)
                    if answer.location:
                        self.send_header("Location", answer.location)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the probe gave up first: that is what the slow tests want

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, Any]:
                conn, address = self.socket.accept()
                if target.tls is None:
                    return conn, address
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(*target.tls)
                names: list[str | None] = [None]
                context.sni_callback = lambda _sock, name, _ctx: names.__setitem__(0, name)  # type: ignore[assignment,func-returns-value]
                tls = context.wrap_socket(conn, server_side=True)
                tls.detour_sni = names[0]  # type: ignore[attr-defined]
                return tls, address

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a probe that hangs up early is expected

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class SaturatedListener:
    """A listening socket that never accepts, its queue filled: the next connect hangs (Linux drops the
    SYN), as a firewall that drops Route 53's checkers would make it hang."""

    def __init__(self) -> None:
        self.port = 0
        self._listener = socket.socket()
        self._fillers: list[socket.socket] = []

    def __enter__(self) -> SaturatedListener:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        self.port = self._listener.getsockname()[1]
        for _ in range(64):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            self._fillers.append(filler)
            if not self._completes(filler):
                break
        return self

    @staticmethod
    def _completes(sock: socket.socket) -> bool:
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline:
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 and _connected(sock):
                return True
            time.sleep(0.01)
        return False

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for filler in self._fillers:
            filler.close()
        self._listener.close()


def _connected(sock: socket.socket) -> bool:
    try:
        sock.getpeername()
    except OSError:
        return False
    return True
