"""Probe the primary from here the way a Route 53 health checker does, from the health check's own
configuration (the one sites/site.yaml makes, or the deployed one):

- a TCP connection within 4 s;
- for HTTP(S), a 2xx or 3xx status within 2 s of connecting; a redirect is not followed (3xx is
  healthy);
- HTTPS without certificate validation, with the FullyQualifiedDomainName as SNI when EnableSNI;
- the Host header Route 53 sends: FullyQualifiedDomainName (IPAddress when there is none), with
  `:PORT` unless the port is 80 for HTTP or 443 for HTTPS;
- without IPAddress, Route 53 resolves FullyQualifiedDomainName (IPv4 only) and probes an answer;
- for the _STR_MATCH types, the search string entirely within the first 5,120 bytes of the body.

This machine is not one of Route 53's checkers: a pass proves only that the primary answers here.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from detour_cli.preflight.result import Result, failed, passed

CHECK = "probe"
# Route 53's limits; module constants so tests can shorten them.
CONNECT_TIMEOUT_S = 4.0
ANSWER_TIMEOUT_S = 2.0  # from the TCP connection to the status line
BODY_TIMEOUT_S = 2.0  # reading the first 5,120 bytes after the status line
SEARCH_WINDOW = 5120
LOOK_FURTHER = 64 * 1024  # read this much more to say where a string beyond the window is
MAX_ADDRESSES = 3  # a balancer's name answers one address per zone; Route 53 probes whichever it gets
IP_RANGES = "https://ip-ranges.amazonaws.com/ip-ranges.json"
CHECKER_RANGES = f"curl -s {IP_RANGES} | jq -r '.prefixes[] | select(.service==\"ROUTE53_HEALTHCHECKS\") | .ip_prefix'"


@dataclass(frozen=True, slots=True)
class ProbePlan:
    """What a checker sends, from a HealthCheckConfig."""

    protocol: str  # HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP
    port: int
    path: str
    fqdn: str  # FullyQualifiedDomainName, or ''
    ip_address: str  # IPAddress, or '': then fqdn is resolved
    sni: bool
    search: str

    @property
    def https(self) -> bool:
        return self.protocol.startswith("HTTPS")

    @property
    def http(self) -> bool:
        return self.protocol != "TCP"

    @property
    def host_header(self) -> str:
        host = self.fqdn or self.ip_address
        default = 443 if self.https else 80
        return host if self.port == default else f"{host}:{self.port}"

    def describe(self) -> str:
        where = f"{self.protocol} port {self.port}"
        if not self.http:
            return where
        return f"{where}, GET {self.path}, Host {self.host_header}" + (
            f", SNI {self.fqdn}" if self.https and self.sni and self.fqdn else ""
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ProbePlan:
        protocol = str(config["Type"])
        return cls(
            protocol=protocol,
            port=int(config.get("Port") or (443 if protocol.startswith("HTTPS") else 80)),
            path=str(config.get("ResourcePath") or "/"),
            fqdn=str(config.get("FullyQualifiedDomainName") or "").rstrip("."),
            ip_address=str(config.get("IPAddress") or ""),
            sni=bool(config.get("EnableSNI")),
            search=str(config.get("SearchString") or "") if protocol.endswith("_STR_MATCH") else "",
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    address: str
    healthy: bool
    summary: str  # what happened, for people
    problem: str = ""  # connect | answer | status | search | tls: what to fix
    connect_ms: int | None = None
    answer_ms: int | None = None
    status: int | None = None


def probe(plan: ProbePlan, address: str) -> Outcome:
    """One probe of `address`, as a checker makes it."""
    started = time.monotonic()
    try:
        raw = socket.create_connection((address, plan.port), timeout=CONNECT_TIMEOUT_S)
    except TimeoutError:
        return Outcome(address, False, f"no TCP connection within {CONNECT_TIMEOUT_S:g} s", "connect")
    except OSError as error:
        return Outcome(address, False, f"TCP connection failed: {error.strerror or error}", "connect")
    connected = time.monotonic()
    connect_ms = _ms(connected - started)
    if not plan.http:
        raw.close()
        return Outcome(address, True, f"TCP connection in {connect_ms} ms", connect_ms=connect_ms)
    try:
        return _http(plan, address, raw, connected, connect_ms)
    finally:
        raw.close()


def _http(plan: ProbePlan, address: str, raw: socket.socket, connected: float, connect_ms: int) -> Outcome:  # noqa: PLR0911
    deadline = connected + ANSWER_TIMEOUT_S
    late = Outcome(
        address,
        False,
        f"connected in {connect_ms} ms, but no status within {ANSWER_TIMEOUT_S:g} s",
        "answer",
        connect_ms,
    )
    try:
        sock: socket.socket = raw
        if plan.https:
            raw.settimeout(_left(deadline))
            sock = _insecure_context().wrap_socket(raw, server_hostname=plan.fqdn if plan.sni and plan.fqdn else None)
        connection = http.client.HTTPConnection(plan.fqdn or address, plan.port)
        connection.sock = sock  # connected already: http.client would resolve the name itself
        sock.settimeout(_left(deadline))
        connection.request("GET", plan.path, headers={"Host": plan.host_header, "User-Agent": "detour-preflight"})
        response = connection.getresponse()
    except TimeoutError:
        return late
    except ssl.SSLError as error:
        return Outcome(address, False, f"TLS handshake failed: {error.reason or error}", "tls", connect_ms)
    except (OSError, http.client.HTTPException) as error:
        return Outcome(address, False, f"the connection failed: {type(error).__name__}: {error}", "answer", connect_ms)
    answer_ms = _ms(time.monotonic() - connected)
    if time.monotonic() > deadline:
        return late
    said = f"{response.status} {response.reason}".strip() + f" in {answer_ms} ms"
    timing: dict[str, Any] = {"connect_ms": connect_ms, "answer_ms": answer_ms, "status": response.status}
    if not 200 <= response.status < 400:
        return Outcome(address, False, f"answered {said}: Route 53 wants 2xx or 3xx", "status", **timing)
    if not plan.search:
        return Outcome(address, True, f"answered {said} (connected in {connect_ms} ms)", **timing)
    return _search(plan, address, sock=sock, response=response, said=said, timing=timing)


def _search(
    plan: ProbePlan,
    address: str,
    *,
    sock: socket.socket,
    response: http.client.HTTPResponse,
    said: str,
    timing: dict[str, Any],
) -> Outcome:
    needle = plan.search.encode()
    try:
        sock.settimeout(BODY_TIMEOUT_S)
        window = response.read(SEARCH_WINDOW)
        if needle in window:
            where = window.index(needle)
            return Outcome(address, True, f"answered {said}, {plan.search!r} at byte {where:,}", **timing)
        further = window + response.read(LOOK_FURTHER)
    except (TimeoutError, OSError, http.client.HTTPException) as error:
        return Outcome(address, False, f"answered {said}, then the body failed: {error}", "search", **timing)
    if needle in further:
        where = further.index(needle)
        return Outcome(
            address,
            False,
            f"answered {said}, but {plan.search!r} starts at byte {where:,}: beyond the first {SEARCH_WINDOW:,}",
            "search",
            **timing,
        )
    return Outcome(
        address,
        False,
        f"answered {said}, but {plan.search!r} is not in the first {SEARCH_WINDOW:,} bytes",
        "search",
        **timing,
    )


def _insecure_context() -> ssl.SSLContext:
    """Route 53 does not validate the endpoint's certificate: neither does the probe."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def check_probe(config: dict[str, Any], resolve: Callable[[str], tuple[str, ...]]) -> Result:
    """Probe every address the check would probe (up to MAX_ADDRESSES): all must answer."""
    plan = ProbePlan.from_config(config)
    addresses = (plan.ip_address,) if plan.ip_address else resolve(plan.fqdn)[:MAX_ADDRESSES]
    if not addresses:
        return failed(
            CHECK,
            f"{plan.fqdn} does not resolve to an IPv4 address from here: Route 53 resolves it (IPv4 only) to probe it",
            f"check the name:\ndig +short A {plan.fqdn}",
        )
    outcomes = [probe(plan, address) for address in addresses]
    lines = tuple(f"{o.address}: {o.summary}" for o in outcomes)
    bad = [o for o in outcomes if not o.healthy]
    if not bad:
        return passed(
            CHECK,
            f"{plan.describe()}: {outcomes[0].summary}" if len(outcomes) == 1 else f"{plan.describe()}: all answer",
            *(lines if len(outcomes) > 1 else ()),
            "this proves only that the primary answers this machine; Route 53's checkers come from the "
            "ROUTE53_HEALTHCHECKS ranges, which its firewall or security group must let through",
        )
    first = bad[0]
    title = (
        f"{plan.describe()}: {first.summary}"
        if len(outcomes) == 1
        else f"{plan.describe()}: {len(bad)} of {len(outcomes)} addresses fail"
    )
    return failed(CHECK, title, probe_fix(plan, first), *(lines if len(outcomes) > 1 else ()), *_reproduce(plan, first))


def probe_fix(plan: ProbePlan, outcome: Outcome) -> str:
    where = f"{plan.ip_address or plan.fqdn} port {plan.port}"
    if outcome.problem == "search":
        return (
            f"make {plan.path} put {plan.search!r} within the first {SEARCH_WINDOW:,} bytes of its body "
            "(Route 53 reads no further), and answer 2xx/3xx within 2 s"
        )
    if outcome.problem == "tls":
        return f"serve TLS on {where} (Route 53 does not validate the certificate, but the handshake must succeed)"
    firewall = (
        "allow Route 53's health checkers (ROUTE53_HEALTHCHECKS ranges in "
        f"{IP_RANGES}) through the firewall / security group to {where}"
    )
    if not plan.http:
        return f"{firewall}, and accept TCP connections within {CONNECT_TIMEOUT_S:g} s. The ranges:\n{CHECKER_RANGES}"
    return (
        f"{firewall}, and make {plan.path} answer 2xx/3xx within {ANSWER_TIMEOUT_S:g} s for Host "
        f"{plan.host_header}. The ranges:\n{CHECKER_RANGES}"
    )


def _reproduce(plan: ProbePlan, outcome: Outcome) -> tuple[str, ...]:
    if not plan.http or not plan.fqdn:
        return ()
    scheme = "https" if plan.https else "http"
    return (
        "to see it yourself:\ncurl -ksS -o /dev/null -w '%{http_code} %{time_connect}s %{time_starttransfer}s\\n' "
        f"--connect-timeout 4 --resolve {plan.fqdn}:{plan.port}:{outcome.address} {scheme}://{plan.host_header}{plan.path}",
    )
