"""What `detour drill` needs around the moto world: an HTTPS endpoint that serves the maintenance
page (rendered from the incidents table, as refresh_page would publish it) with a self-signed
certificate for the domain, and an alarm that follows the check the failover records watch (the
endpoint check's Inverted flag; for a site with signals, the calculated check over it and the
signals' alarms), as the real one does a minute or so after Route 53 stops calling the primary
healthy. On ALARM it records the outage's cause as the functions do (read_signals, CauseLog.claim).
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from detour.incidents.notices import NoticeBoard
from detour.incidents.transition import format_time
from detour.page.render import PageSettings, render_page, render_status
from detour.page.status import SiteHistory, page_status
from detour.signals.causes import CauseLog
from detour.signals.states import read_signals
from detour.slack.threads import ThreadStore, new_claim
from tests.cli.dns_server import healthy
from tests.cli.world import DOMAIN, World


def self_signed_certificate(folder: Path, name: str = DOMAIN) -> tuple[Path, Path]:
    """A certificate for `name` (its own CA), and its key: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "page-cert.pem", folder / "page-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class PageServer:
    """HTTPS on 127.0.0.1: every path is the page (503 + Retry-After, like the CloudFront Functions),
    /status.json is the status; both rendered from the table at each request. `page_status` lets a
    test serve a broken page; `server_names` and `hosts` are what clients sent as SNI and Host."""

    def __init__(self, world: World, cert: Path, key: Path, *, page_status: int = 503) -> None:
        self.world = world
        self.page_status = page_status
        self.server_names: list[str | None] = []
        self.hosts: list[str | None] = []
        self.settings = PageSettings(site_name=DOMAIN, default_message="We are working to restore the service.")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.sni_callback = self._sni
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="page-https", daemon=True)

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _sni(self, _socket: Any, server_name: str | None, _context: Any) -> None:
        self.server_names.append(server_name)

    def render(self, path: str) -> tuple[int, dict[str, str], bytes]:
        history = SiteHistory.of(self.world.store.transitions(self.world.check_id))
        status = page_status(history, None, self.settings.default_message, datetime.now(UTC))
        if path.split("?", maxsplit=1)[0] == "/status.json":
            return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, render_status(status)
        body = render_page(status, history.recent_windows(5), self.settings).encode()
        headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
        if self.page_status == 503:
            headers["Retry-After"] = "120"
        return self.page_status, headers, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hosts.append(self.headers.get("Host"))
                status, headers, body = server.render(self.path)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


class AlarmFollower:
    """Records ALARM when the check the failover records watch turns unhealthy (the endpoint check
    Inverted, or a signal's alarm in ALARM) and OK when it is healthy again, as log_window does with
    the alarm's transitions; with `slack_ts`, announces the window as notify_slack would."""

    def __init__(
        self, world: World, *, announce: bool = True, announce_late: bool = False, delay_s: float = 0.0
    ) -> None:
        """`announce_late`: Slack's thread is attached only when the flag goes back (a slow Slack)."""
        self.world, self.announce, self.announce_late, self.delay_s = world, announce, announce_late, delay_s
        self.seen: list[str] = []
        self.slack_ts: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="alarm-follower", daemon=True)

    def __enter__(self) -> AlarmFollower:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _follow(self) -> None:
        inverted = False  # the watched check unhealthy: the flag set, or a signal failing
        while not self._stop.wait(0.05):
            now_inverted = not healthy(self.world.failover_check)
            if now_inverted == inverted:
                continue
            inverted = now_inverted
            time.sleep(self.delay_s)
            state = "ALARM" if inverted else "OK"
            if self.announce and self.announce_late and not inverted:
                self._announce()
            at = datetime.now(UTC)
            # as the functions record it: planned while a planned-maintenance notice is up
            board = NoticeBoard(self.world.table_name, boto3.client("dynamodb"))
            notice = board.current(self.world.check_id, at)
            planned = notice is not None and notice.planned and (notice.since is None or notice.since <= at)
            if inverted:  # as the first function to get the ALARM does, before anyone can see the window
                self._record_cause(at)
            self.world.transition(state, at, reason=f"Threshold Crossed: drill ({state})", planned=planned)
            self.seen.append(state)
            if self.announce and not self.announce_late and inverted:
                self._announce()

    def _record_cause(self, at: datetime) -> None:
        site = self.world.site
        reading = read_signals(site, boto3.client("route53"), boto3.client("cloudwatch"), datetime.now(UTC))
        key = f"{format_time(at)}#{self.world.alarm}"
        CauseLog(self.world.table_name, boto3.client("dynamodb")).claim(site.site_id, key, reading)

    def _announce(self) -> None:
        window = self.world.store.open_window(self.world.check_id)
        assert window is not None
        self.slack_ts = f"{time.time():.6f}"
        threads = ThreadStore(self.world.table_name, boto3.client("dynamodb"))
        claim = new_claim("drill-world", "announce", "1")
        record = threads.open_thread(window, claim)
        assert record is not None
        threads.finish(record, claim.token, channel="C0DRILL", ts=self.slack_ts, announced="open")
