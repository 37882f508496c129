"""The rehearsal's Route 53: checkers, the 18% rule, probes against real servers on loopback, and
failover answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from detour_cli.local.route53 import Checker, HealthCheck, HealthCheckConfig, answer, probe


def test_a_checker_changes_its_verdict_only_after_threshold_contrary_results() -> None:
    checker = Checker("us-east-1", threshold=3)
    assert checker.healthy is None
    checker.observe(True)
    assert checker.healthy is True
    for ok in (False, False, True, False, False):  # the streak is broken by a success
        checker.observe(ok)
    assert checker.healthy is True
    checker.observe(False)
    assert checker.healthy is False
    checker.observe(True)
    assert checker.healthy is False


@pytest.mark.parametrize(
    ("healthy_checkers", "of", "expected"), [(1, 6, False), (1, 5, True), (2, 8, True), (0, 3, False)]
)
def test_healthy_while_more_than_18_percent_of_checkers_say_so(healthy_checkers: int, of: int, expected: bool) -> None:
    config = HealthCheckConfig("HTTP", "127.0.0.1", 80, regions=tuple(f"r{i}" for i in range(of)))
    check = HealthCheck(config)
    for index, checker in enumerate(check.checkers):
        checker.observe(index < healthy_checkers)
    assert check.healthy is expected


def test_the_verdict_is_unknown_until_every_checker_has_probed() -> None:
    check = HealthCheck(HealthCheckConfig("HTTP", "127.0.0.1", 80))
    check.checkers[0].observe(True)
    assert check.healthy is None


class _Primary(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        status, body, delay = {
            "/ok": (200, b"all good", 0.0),
            "/moved": (301, b"", 0.0),
            "/broken": (500, b"", 0.0),
            "/late-string": (200, b"x" * 6000 + b"HEALTHY", 0.0),
            "/early-string": (200, b"HEALTHY" + b"x" * 6000, 0.0),
            "/slow": (200, b"", 2.5),
        }[self.path]
        time.sleep(delay)
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.send_header("x-host-seen", self.headers.get("Host", ""))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def primary() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Primary)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()


@pytest.mark.parametrize(
    ("protocol", "path", "expected"),
    [
        ("HTTP", "/ok", True),
        ("HTTP", "/moved", True),  # 3xx counts as healthy
        ("HTTP", "/broken", False),
        ("HTTP", "/slow", False),  # not answered within 2 s
        ("HTTP_STR_MATCH", "/early-string", True),
        ("HTTP_STR_MATCH", "/late-string", False),  # only the first 5,120 bytes are searched
        ("TCP", "/", True),
    ],
)
def test_a_probe_follows_route53s_rules(primary: int, protocol: str, path: str, expected: bool) -> None:
    config = HealthCheckConfig(protocol, "127.0.0.1", primary, path=path, search_string="HEALTHY")
    assert probe(config) is expected


def test_a_refused_connection_is_unhealthy() -> None:
    from detour_cli.local.fake_slack import free_port  # noqa: PLC0415

    assert probe(HealthCheckConfig("HTTP", "127.0.0.1", free_port(), path="/ok")) is False


RECORDS = [
    {
        "Name": "www.detour.test",
        "Type": "A",
        "Failover": "PRIMARY",
        "HealthCheckId": "hc",
        "TTL": 60,
        "ResourceRecords": [{"Value": "192.0.2.10"}],
        "SetIdentifier": "p",
    },
    {
        "Name": "www.detour.test.",
        "Type": "A",
        "Failover": "SECONDARY",
        "SetIdentifier": "s",
        "AliasTarget": {
            "DNSName": "d111.cloudfront.net.",
            "HostedZoneId": "Z2FDTNDATAQYW2",
            "EvaluateTargetHealth": False,
        },
    },
    {"Name": "other.detour.test.", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.99"}]},
]


def test_failover_answers_the_primary_while_healthy_else_the_distribution() -> None:
    up = answer(RECORDS, "www.detour.test", "A", lambda hc: hc == "hc")
    assert (up.failover, up.values, up.ttl, up.alias) == ("PRIMARY", ("192.0.2.10",), 60, False)
    down = answer(RECORDS, "www.detour.test.", "A", lambda hc: False)
    assert (down.failover, down.values, down.alias) == ("SECONDARY", ("d111.cloudfront.net",), True)
    with pytest.raises(LookupError, match=r"no failover pair for other\.detour\.test"):
        answer(RECORDS, "other.detour.test", "A", lambda hc: True)
