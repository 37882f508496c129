"""Probe the primary from here the way a Route 53 health checker does, from the health check's own
configuration (the one sites/site.yaml makes, or the deployed one):

- a TCP connection within 4 s (10 s for a TCP health check);
- for HTTP(S), a 2xx or 3xx status within 2 s of connecting; a redirect is not followed (3xx is
  healthy); then the rest of the answer needed (the headers, and for string matching the body up to
  the string or 5,120 bytes) within 2 s of the status;
- HTTPS without certificate validation, TLS 1.0 to 1.2 only, with the FullyQualifiedDomainName as SNI
  when EnableSNI;
- the Host header Route 53 sends: FullyQualifiedDomainName (IPAddress when there is none), with
  `:PORT` unless the port is 80 for HTTP or 443 for HTTPS; Route 53's own User-Agent;
- without IPAddress, Route 53 resolves FullyQualifiedDomainName (IPv4 only) and probes an answer;
- for the _STR_MATCH types, the search string entirely within the first 5,120 bytes of the body.

The limits are deadlines, not timeouts per read: before every read the socket's timeout is set to the
time left, so a primary that trickles a byte at a time cannot hold the probe longer than their sum.

This machine is not one of Route 53's checkers: a pass proves only that the primary answers here.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import select
import shlex
import socket
import ssl
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from detour_cli.output import printable
from detour_cli.preflight.result import Result, Status, failed, passed

CHECK = "probe"
# Route 53's limits, from the Route 53 Developer Guide, "How Amazon Route 53 determines whether a health
# check is healthy" (docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-
# endpoints.html, checked 2026-11): HTTP and HTTPS, "Route 53 must be able to establish a TCP connection
# with the endpoint within four seconds. In addition, the endpoint must respond with an HTTP status code
# of 2xx or 3xx within two seconds after connecting"; TCP, "a TCP connection with the endpoint within ten
# seconds"; string matching, "After a Route 53 health checker receives the HTTP status code, it must
# receive the response body from the endpoint within the next two seconds", the string entirely within
# the first 5,120 bytes. Module constants so tests can shorten them.
CONNECT_TIMEOUT_S = 4.0  # HTTP(S): the TCP connection
TCP_CONNECT_TIMEOUT_S = 10.0  # a TCP health check: the TCP connection is all it asks for
ANSWER_TIMEOUT_S = 2.0  # from the TCP connection to the status line (the TLS handshake included)
BODY_TIMEOUT_S = 2.0  # from the status line to the rest needed: headers, and the body for string matching
SEARCH_WINDOW = 5120
LOOK_FURTHER = 64 * 1024  # read this much more to say where a string beyond the window is
MAX_ADDRESSES = 3  # a balancer's name answers one address per zone; Route 53 probes whichever it gets
IP_RANGES = "https://ip-ranges.amazonaws.com/ip-ranges.json"
CHECKER_RANGES = f"curl -s {IP_RANGES} | jq -r '.prefixes[] | select(.service==\"ROUTE53_HEALTHCHECKS\") | .ip_prefix'"
# Route 53's checkers' User-Agent, as AWS's knowledge center shows it in load balancer logs ("How can I
# identify and resolve unwanted health checks from Route 53?"): a WAF rule or a bot filter keyed on it
# treats the probe as it treats the checkers. The ref is a fresh UUID per request.
USER_AGENT = "Amazon-Route53-Health-Check-Service (ref {ref}; report http://amzn.to/1vsZADi)"


class ResolveTimeout(Exception):
    """The resolver did not answer in time: the name's fate is unknown, not "does not resolve"."""


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
    limit = CONNECT_TIMEOUT_S if plan.http else TCP_CONNECT_TIMEOUT_S
    try:
        raw = socket.create_connection((address, plan.port), timeout=limit)
    except TimeoutError:
        return Outcome(address, False, f"no TCP connection within {limit:g} s", "connect")
    except OSError as error:
        return Outcome(address, False, f"TCP connection failed: {printable(str(error.strerror or error))}", "connect")
    connected = time.monotonic()
    connect_ms = _ms(connected - started)
    if not plan.http:
        raw.close()
        return Outcome(address, True, f"TCP connection in {connect_ms} ms", connect_ms=connect_ms)
    try:
        return _http(plan, address, raw, connected, connect_ms)
    finally:
        raw.close()


class _DeadlineReader(io.RawIOBase):
    """The socket's bytes, each read given only the time left: the status line must arrive by
    `deadline`; once it has (its line end is read), the rest must arrive within `rest_s` of it."""

    def __init__(self, sock: socket.socket, deadline: float, rest_s: float) -> None:
        super().__init__()
        self.sock, self.deadline, self.rest_s = sock, deadline, rest_s
        self.status_at: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self.sock.settimeout(_left(self.deadline))
        count = self.sock.recv_into(buffer)
        if self.status_at is None and b"\n" in bytes(memoryview(buffer)[:count]):
            self.status_at = time.monotonic()
            self.deadline = self.status_at + self.rest_s
        return count


class _Source:
    """What http.client.HTTPResponse reads from: the deadline reader, buffered."""

    def __init__(self, reader: _DeadlineReader) -> None:
        self.reader = reader

    def makefile(self, *_args: Any, **_kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(self.reader)


def _handshake(raw: socket.socket, plan: ProbePlan, deadline: float) -> ssl.SSLSocket:
    """The TLS handshake, all of it by `deadline` (not a timeout per read)."""
    sock = _route53_tls_context().wrap_socket(
        raw, server_hostname=plan.fqdn if plan.sni and plan.fqdn else None, do_handshake_on_connect=False
    )
    sock.setblocking(False)
    while True:
        try:
            sock.do_handshake()
            return sock
        except ssl.SSLWantReadError:
            ready = select.select([sock], [], [], _left(deadline))[0]
        except ssl.SSLWantWriteError:
            ready = select.select([], [sock], [], _left(deadline))[1]
        if not ready:
            raise TimeoutError


def _http(plan: ProbePlan, address: str, raw: socket.socket, connected: float, connect_ms: int) -> Outcome:
    deadline = connected + ANSWER_TIMEOUT_S
    sock: socket.socket = raw
    reader = _DeadlineReader(raw, deadline, BODY_TIMEOUT_S)
    try:
        if plan.https:
            sock = _handshake(raw, plan, deadline)
            reader.sock = sock
        request = (
            f"GET {plan.path} HTTP/1.1\r\nHost: {plan.host_header}\r\n"
            f"User-Agent: {USER_AGENT.format(ref=uuid.uuid4())}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        )
        sock.settimeout(_left(deadline))
        sock.sendall(request.encode("latin-1", "replace"))
        response = http.client.HTTPResponse(_Source(reader), method="GET")  # type: ignore[arg-type]
        response.begin()
    except TimeoutError:
        return _late(address, reader, connect_ms)
    except ssl.SSLError as error:
        return Outcome(address, False, _tls_failure(error), "tls", connect_ms)
    except (OSError, http.client.HTTPException) as error:
        said = printable(f"{type(error).__name__}: {error}")
        return Outcome(address, False, f"the connection failed: {said}", "answer", connect_ms)
    answer_ms = _ms((reader.status_at or time.monotonic()) - connected)
    said = printable(f"{response.status} {response.reason}".strip()) + f" in {answer_ms} ms"
    timing: dict[str, Any] = {"connect_ms": connect_ms, "answer_ms": answer_ms, "status": response.status}
    if not 200 <= response.status < 400:
        return Outcome(address, False, f"answered {said}: Route 53 wants 2xx or 3xx", "status", **timing)
    if not plan.search:
        return Outcome(address, True, f"answered {said} (connected in {connect_ms} ms)", **timing)
    return _search(plan, address, response=response, said=said, timing=timing)


def _late(address: str, reader: _DeadlineReader, connect_ms: int) -> Outcome:
    if reader.status_at is None:
        return Outcome(
            address,
            False,
            f"connected in {connect_ms} ms, but no status within {ANSWER_TIMEOUT_S:g} s",
            "answer",
            connect_ms,
        )
    return Outcome(
        address,
        False,
        f"connected in {connect_ms} ms and the status came, but the rest of the headers not within "
        f"{BODY_TIMEOUT_S:g} s of it",
        "answer",
        connect_ms,
    )


def _tls_failure(error: ssl.SSLError) -> str:
    reason = printable(str(error.reason or error))
    if "VERSION" in reason.upper() or "PROTOCOL" in reason.upper():
        return (
            f"TLS handshake failed ({reason}): Route 53 offers TLS 1.0, 1.1 and 1.2 only, and the primary "
            "takes none of them (TLS 1.3 only?)"
        )
    return f"TLS handshake failed: {reason}"


def _search(
    plan: ProbePlan,
    address: str,
    *,
    response: http.client.HTTPResponse,
    said: str,
    timing: dict[str, Any],
) -> Outcome:
    """The body up to the search string or 5,120 bytes, by the deadline the status line set."""
    needle = plan.search.encode()
    window = b""
    try:
        while len(window) < SEARCH_WINDOW and needle not in window:
            chunk = response.read1(SEARCH_WINDOW - len(window))
            if not chunk:
                break
            window += chunk
    except TimeoutError:
        return Outcome(
            address,
            False,
            f"answered {said}, but the body did not come within {BODY_TIMEOUT_S:g} s of the status "
            f"({len(window):,} bytes, no {plan.search!r} in them)",
            "search",
            **timing,
        )
    except (OSError, http.client.HTTPException) as error:
        return Outcome(address, False, printable(f"answered {said}, then the body failed: {error}"), "search", **timing)
    if needle in window:
        where = window.index(needle)
        return Outcome(address, True, f"answered {said}, {plan.search!r} at byte {where:,}", **timing)
    further = window
    with contextlib.suppress(OSError, http.client.HTTPException):  # only to say where: same deadline
        further += response.read(LOOK_FURTHER)
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


def _route53_tls_context() -> ssl.SSLContext:
    """As Route 53's checkers: no certificate validation, and TLS 1.0 to 1.2 only (HealthCheckConfig's Type:
    "the endpoint must support TLS v1.0, v1.1, or v1.2"), so a TLS-1.3-only primary fails here as there.
    The security level is lowered so that OpenSSL will offer 1.0 and 1.1 at all; where the local OpenSSL is
    built without them (ssl.HAS_TLSv1 false) the probe can only offer 1.2, and a primary that speaks only
    1.0 or 1.1 fails here though Route 53 would reach it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # deprecated, and deliberate: Route 53 still offers TLS 1.0
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with contextlib.suppress(ssl.SSLError):  # an OpenSSL without security levels keeps its defaults
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def check_probe(config: dict[str, Any], resolve: Callable[[str], tuple[str, ...]]) -> Result:
    """Probe every address the check would probe (up to MAX_ADDRESSES): all must answer."""
    plan = ProbePlan.from_config(config)
    try:
        addresses = (plan.ip_address,) if plan.ip_address else resolve(plan.fqdn)[:MAX_ADDRESSES]
    except ResolveTimeout as error:
        return Result(
            CHECK,
            Status.ERROR,
            f"{plan.fqdn} could not be resolved from here: {printable(str(error))}",
            fix="check the resolver (--resolver, DETOUR_RESOLVER or this machine's), then run again:\n"
            f"dig +short A {plan.fqdn}",
        )
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
        return (
            f"serve TLS 1.2 (or 1.0/1.1) on {where}: Route 53 does not offer TLS 1.3 and does not validate the "
            "certificate, but the handshake must succeed"
        )
    firewall = (
        "allow Route 53's health checkers (ROUTE53_HEALTHCHECKS ranges in "
        f"{IP_RANGES}) through the firewall / security group to {where}"
    )
    if not plan.http:
        return (
            f"{firewall}, and accept TCP connections within {TCP_CONNECT_TIMEOUT_S:g} s. The ranges:\n{CHECKER_RANGES}"
        )
    return (
        f"{firewall}, and make {plan.path} answer 2xx/3xx within {ANSWER_TIMEOUT_S:g} s for Host "
        f"{plan.host_header}. The ranges:\n{CHECKER_RANGES}"
    )


def _reproduce(plan: ProbePlan, outcome: Outcome) -> tuple[str, ...]:
    if not plan.http or not plan.fqdn:
        return ()
    scheme = "https" if plan.https else "http"
    resolve = shlex.quote(f"{plan.fqdn}:{plan.port}:{outcome.address}")
    url = shlex.quote(f"{scheme}://{plan.host_header}{plan.path}")
    agent = shlex.quote(USER_AGENT.format(ref="preflight"))
    return (
        "to see it yourself:\ncurl -ksS --tls-max 1.2 -o /dev/null -w '%{http_code} %{time_connect}s "
        f"%{{time_starttransfer}}s\\n' --connect-timeout {CONNECT_TIMEOUT_S:g} -A {agent} --resolve {resolve} {url}",
    )
