"""Local primaries for `detour preflight`'s probe: an HTTP(S) server that answers as it is told (a
status, a redirect, a slow first byte, a body with a search string at a chosen byte) and records
what the probe sent (path, Host header, SNI), and a listener whose accept queue is full, so a TCP
connection to it never completes (the slow connect), a primary that trickles its answer a byte at a
time, and the imported certificate ACM (moto) holds for the tests' sites."""

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

import boto3

from tests.cli.drill_world import self_signed_certificate


@dataclass
class Answer:
    """What the primary answers: status, body, a Location, after a delay before the first byte."""

    status: int = 200
    body: bytes = b"ok"
    location: str = ""
    delay_s: float = 0.0
    reason: str = ""  # the reason phrase; "" for the standard one


def body_with(text: str, at: int, size: int = 16 * 1024) -> bytes:
    """A body of `size` bytes with `text` starting at byte `at`."""
    filler = b"x" * size
    return filler[:at] + text.encode() + filler[at + len(text) :]


@dataclass
class Seen:
    path: str
    host: str
    sni: str | None
    user_agent: str = ""


@dataclass
class ProbeTarget:
    """A primary on 127.0.0.1; `tls` = (certificate, key) paths for HTTPS."""

    answer: Answer = field(default_factory=Answer)
    tls: tuple[Path, Path] | None = None
    tls_minimum: ssl.TLSVersion | None = None  # e.g. TLSv1_3: a primary that takes TLS 1.3 only
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: Any = None
    _sni: dict[int, str | None] = field(default_factory=dict)

    def __enter__(self) -> ProbeTarget:
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                sni = getattr(self.connection, "detour_sni", None)
                target.seen.append(
                    Seen(self.path, self.headers.get("Host", ""), sni, self.headers.get("User-Agent", ""))
                )
                answer = target.answer
                time.sleep(answer.delay_s)
                try:
                    self.send_response(answer.status, answer.reason or None)
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
                if target.tls_minimum is not None:
                    context.minimum_version = target.tls_minimum
                names: list[str | None] = [None]
                context.sni_callback = lambda _sock, name, _ctx: names.__setitem__(0, name)  # type: ignore[assignment,func-returns-value]
                try:
                    tls = context.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    conn.close()  # a handshake the probe refused: nothing to answer
                    raise
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


class Trickle:
    """A plain HTTP primary that sends `head` at once, then the rest of its answer one byte every
    `every_s`: per-read timeouts never fire on it; only deadlines end the probe."""

    def __init__(self, head: bytes, rest: bytes, every_s: float = 0.3) -> None:
        self.head, self.rest, self.every_s = head, rest, every_s
        self.port = 0
        self._listener = socket.socket()
        self._stop = threading.Event()

    def __enter__(self) -> Trickle:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.recv(4096)  # the request
            conn.sendall(self.head)
            for byte in self.rest:
                if self._stop.wait(self.every_s):
                    return
                conn.sendall(bytes([byte]))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()


def imported_certificate(folder: Path, name: str) -> str:
    """A self-signed certificate for `name` imported into ACM (us-east-1): imported ones are ISSUED."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(folder, name)
    acm = boto3.client("acm", region_name="us-east-1")
    return str(acm.import_certificate(Certificate=cert.read_bytes(), PrivateKey=key.read_bytes())["CertificateArn"])
