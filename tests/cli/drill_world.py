"""What `detour drill` needs around the moto world: an HTTPS endpoint that serves the maintenance
page (rendered from the incidents table, as refresh_page would publish it) with a self-signed
certificate for the domain, and an alarm that follows the check the failover records watch (the
endpoint check's Inverted flag; for a site with signals, the calculated check over it and the
signals' alarms), as the real one does a minute or so after Route 53 stops calling the primary
healthy. On ALARM it records the outage's cause as the functions do (read_signals, CauseLog.claim).

`ErrorRateData` makes the 5xx-rate signal's check follow its alarm's metric data, as Route 53's
alarm-backed checks do, instead of the alarm's state (the name server's default): CloudWatch's
evaluation of the data (detour_cli.local.metric_alarm, as the rehearsal uses it) decides, so setting
the alarm's state moves nothing, and only 100 % published for the alarm's minutes fails the site
over. It also plays Detour's error_rate function, publishing each finished minute's rate (0 %) as
soon as the minute ends (a site with traffic whose ALB data is in at once: no settling wait), whose
values take over once a drill stops publishing. Its minutes come from a `FastClock`.
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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
from detour.signals.error_rate import METRIC_NAME, NAMESPACE, SITE_DIMENSION
from detour.signals.states import read_signals
from detour.slack.threads import ThreadStore, new_claim
from detour_cli.local.metric_alarm import ALARM, OK, Evaluation, MetricAlarm
from detour_cli.local.signal_checks import LAST_KNOWN, metric_check_healthy
from tests.cli import dns_server
from tests.cli.dns_server import ALARM_TAG, healthy
from tests.cli.world import DOMAIN, ERROR_RATE_ALARM, World


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


class FastClock:
    """Time for the metric's minutes, `minute_s` real seconds a minute: a test drills through minutes
    without waiting them out. It starts half a minute into a minute an hour back, so that every minute
    it gives a test is in the past for CloudWatch."""

    def __init__(self, minute_s: float = 0.5) -> None:
        self.minute_s = minute_s
        self.start = (datetime.now(UTC) - timedelta(hours=1)).replace(second=30, microsecond=0)
        self._t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(minutes=(time.monotonic() - self._t0) / self.minute_s)

    def minute(self) -> datetime:
        """The current minute's start."""
        return self().replace(second=0, microsecond=0)

    def wait_minutes(self, minutes: float) -> None:
        time.sleep(minutes * self.minute_s)


class ErrorRateData:
    """The 5xx-rate signal as Route 53 and CloudWatch treat it, from its metric's data (see the module's
    docstring). While entered, the name server and AlarmFollower judge the alarm-backed check of
    `alarm_name` by CloudWatch's evaluation of its data at the clock's current minute (its last
    EvaluationPeriods finished minutes), never by its state; other alarm-backed checks as before.
    Each look first lets the error_rate function publish `baseline` for every finished minute it has
    not published yet (from five minutes before the start: the function's window)."""

    def __init__(
        self, world: World, clock: FastClock, *, alarm_name: str = ERROR_RATE_ALARM, baseline: float = 0.0
    ) -> None:
        self.world, self.clock, self.alarm_name, self.baseline = world, clock, alarm_name, baseline
        self.function_running = True  # False: error_rate publishes nothing (a broken function)
        self.evaluations: list[Evaluation] = []
        self._function_next = clock.minute() - timedelta(minutes=5)
        self._last_known: bool | None = None  # the check's status when the alarm last had data
        self._lock = threading.RLock()
        self._original: Callable[[Any, str, dict[str, Any]], bool] | None = None

    def __enter__(self) -> ErrorRateData:
        self._original = dns_server._alarm_healthy
        dns_server._alarm_healthy = self._alarm_healthy
        self.evaluate()  # the alarm as CloudWatch has it now: OK on the function's data
        return self

    def __exit__(self, *exc: object) -> None:
        if self._original is not None:
            dns_server._alarm_healthy = self._original

    @property
    def dimensions(self) -> list[dict[str, str]]:
        return [{"Name": SITE_DIMENSION, "Value": self.world.site_stack}]

    def publish(self, minute: datetime, value: float) -> None:
        boto3.client("cloudwatch").put_metric_data(
            Namespace=NAMESPACE,
            MetricData=[
                {
                    "MetricName": METRIC_NAME,
                    "Dimensions": self.dimensions,
                    "Timestamp": minute,
                    "Value": value,
                    "Unit": "Percent",
                    "StorageResolution": 60,
                }
            ],
        )

    def run_function(self) -> None:
        """error_rate's runs since the last look: `baseline` for each minute finished since."""
        current = self.clock.minute()
        while self.function_running and self._function_next < current:
            self.publish(self._function_next, self.baseline)
            self._function_next += timedelta(minutes=1)

    def evaluate(self) -> Evaluation:
        """CloudWatch's evaluation of the alarm at the current minute (the state it writes follows)."""
        with self._lock:
            self.run_function()
            evaluation = MetricAlarm(self.alarm_name, boto3.client("cloudwatch")).evaluate_at(self.clock.minute())
            self.evaluations.append(evaluation)
            return evaluation

    def maxima(self, since: datetime, until: datetime) -> dict[datetime, float]:
        """Each minute's Maximum of the metric in [since, until), as the alarm reads it."""
        points = boto3.client("cloudwatch").get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName=METRIC_NAME,
            Dimensions=self.dimensions,
            StartTime=since,
            EndTime=until,
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
        return {point["Timestamp"].astimezone(UTC): float(point["Maximum"]) for point in points}

    def _alarm_healthy(self, route53: Any, check_id: str, config: dict[str, Any]) -> bool:
        name = dns_server._tag(route53, check_id, ALARM_TAG)
        if name != self.alarm_name:
            assert self._original is not None
            return self._original(route53, check_id, config)
        with self._lock:
            state = self.evaluate().new_state
            insufficient = str(config.get("InsufficientDataHealthStatus") or LAST_KNOWN)
            verdict = metric_check_healthy(state, insufficient, self._last_known)
            if state in (OK, ALARM):
                self._last_known = state == OK
            return verdict
