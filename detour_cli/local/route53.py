"""Route 53's part, played locally: health checkers that follow its rules, and failover records
answered as it answers them.

Rules (Route 53 documentation): every checker region probes each interval; an HTTP(S) probe must
connect within 4 s and answer 2xx or 3xx within 2 s, and a string-matching probe must find the
string in the first 5,120 bytes; a checker changes its verdict after FailureThreshold consecutive
results the other way; the endpoint is healthy while more than 18% of checkers say so.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CONNECT_TIMEOUT_S = 4.0
ANSWER_TIMEOUT_S = 2.0
SEARCH_WINDOW = 5120
HEALTHY_SHARE = 0.18
DEFAULT_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1")
USER_AGENT = "Amazon-Route53-Health-Check-Service (ref local; report http://amzn.to/1vsZADi)"  # as its checkers send


@dataclass(frozen=True, slots=True)
class HealthCheckConfig:
    protocol: str  # HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP
    address: str
    port: int
    path: str = "/"
    search_string: str = ""
    host: str = ""
    interval_s: float = 10.0
    failure_threshold: int = 3
    regions: tuple[str, ...] = DEFAULT_REGIONS

    @classmethod
    def from_template(
        cls, config: dict[str, Any], *, interval_s: float | None = None, resolve: Mapping[str, str] | None = None
    ) -> HealthCheckConfig:
        """From the health check's resolved HealthCheckConfig; `interval_s` shortens time for a rehearsal;
        `resolve` says where a name resolves locally (a load balancer's name: the loopback address of
        what stands in for it). The Host header stays the name, as Route 53 sends it."""
        name = config.get("FullyQualifiedDomainName", "")
        return cls(
            protocol=config["Type"],
            address=config.get("IPAddress") or (resolve or {}).get(name, name),
            port=int(config["Port"]),
            path=config.get("ResourcePath", "/"),
            search_string=config.get("SearchString", ""),
            host=config.get("FullyQualifiedDomainName", ""),
            interval_s=interval_s or float(config.get("RequestInterval", 30)),
            failure_threshold=int(config.get("FailureThreshold", 3)),
            regions=tuple(config.get("Regions", DEFAULT_REGIONS)),
        )


def probe(config: HealthCheckConfig) -> bool:
    """One checker's request, judged by Route 53's rules. (Certificates are not validated.)"""
    return probe_status(config)[0]


def probe_status(config: HealthCheckConfig) -> tuple[bool, str]:
    """One checker's request and its verdict, with the status report Route 53 keeps for it
    (GetHealthCheckStatus), worded as Route 53 words it."""
    try:
        if config.protocol == "TCP":
            with socket.create_connection((config.address, config.port), timeout=CONNECT_TIMEOUT_S):
                return True, "Success: TCP connection established."
        https = config.protocol.startswith("HTTPS")
        connection_class = http.client.HTTPSConnection if https else http.client.HTTPConnection
        kwargs: dict[str, Any] = {"timeout": CONNECT_TIMEOUT_S}
        if https:
            import ssl  # noqa: PLC0415

            kwargs["context"] = ssl._create_unverified_context()  # noqa: S323 - as Route 53 does
        connection = connection_class(config.address, config.port, **kwargs)
        host = config.host or config.address
        if config.port not in (80, 443):
            host = f"{host}:{config.port}"  # as Route 53 sends it for other ports
        try:
            connection.connect()
            answered_by = time.monotonic() + ANSWER_TIMEOUT_S
            if connection.sock is not None:
                connection.sock.settimeout(ANSWER_TIMEOUT_S)
            connection.request("GET", config.path, headers={"Host": host, "User-Agent": USER_AGENT})
            response = connection.getresponse()
            code = f"HTTP Status Code {response.status}, {response.reason}"
            if not 200 <= response.status < 400:
                return False, f"Failure: {code}."
            if config.protocol.endswith("_STR_MATCH") and config.search_string.encode() not in response.read(
                SEARCH_WINDOW
            ):
                return False, f"Failure: {code}. The search string was not found in the response body."
            if time.monotonic() > answered_by:  # the whole answer within 2 s
                return False, "Failure: The endpoint did not answer within 2 seconds."
            return True, f"Success: {code}."
        finally:
            connection.close()
    except OSError as error:
        why = error.strerror or str(error) or type(error).__name__
        return False, f"Failure: {why}. The endpoint or the internet connection is down, or requests are blocked."


@dataclass
class Checker:
    """One checker region's verdict, which only flips after `threshold` consecutive contrary results."""

    region: str
    threshold: int
    healthy: bool | None = None  # unknown until its first probe
    report: str = ""  # its last probe's status report (GetHealthCheckStatus's StatusReport.Status)
    checked_at: datetime | None = None
    _streak: int = 0

    def observe(self, ok: bool, report: str = "") -> None:
        self.report = report or ("Success" if ok else "Failure")
        self.checked_at = datetime.now(UTC)
        if self.healthy is None:
            self.healthy = ok
            return
        if ok == self.healthy:
            self._streak = 0
            return
        self._streak += 1
        if self._streak >= self.threshold:
            self.healthy, self._streak = ok, 0


@dataclass
class HealthCheck:
    """The health check as a whole: healthy while more than 18% of its checkers say so."""

    config: HealthCheckConfig
    checkers: list[Checker] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.checkers:
            self.checkers = [Checker(region, self.config.failure_threshold) for region in self.config.regions]

    @property
    def healthy(self) -> bool | None:
        """None until every checker has probed once."""
        if any(c.healthy is None for c in self.checkers):
            return None
        return sum(bool(c.healthy) for c in self.checkers) / len(self.checkers) > HEALTHY_SHARE

    def observations(self) -> dict[str, bool | None]:
        return {c.region: c.healthy for c in self.checkers}

    def status_reports(self) -> list[dict[str, Any]]:
        """GetHealthCheckStatus's HealthCheckObservations: each checker's last report, once it has probed."""
        return [
            {
                "Region": c.region,
                "IPAddress": "127.0.0.1",
                "StatusReport": {"Status": c.report, "CheckedTime": c.checked_at},
            }
            for c in self.checkers
            if c.checked_at is not None
        ]


class Prober:
    """Runs the checkers every interval in the background and reports each round's verdict (the
    HealthCheckStatus datapoint) once it is known."""

    def __init__(
        self,
        check: HealthCheck,
        on_round: Callable[[bool], None],
        probe_once: Callable[[HealthCheckConfig], bool | tuple[bool, str]] = probe_status,
    ) -> None:
        self.check = check
        self._on_round = on_round
        self._probe = probe_once
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="route53-prober", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            for checker in self.check.checkers:  # each region probes for itself
                result = self._probe(self.check.config)
                ok, report = result if isinstance(result, tuple) else (result, "")
                checker.observe(ok, report)
            verdict = self.check.healthy
            if verdict is not None:
                self._on_round(verdict)
            self._stop.wait(max(0.0, self.check.config.interval_s - (time.monotonic() - started)))


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    failover: str  # PRIMARY or SECONDARY
    values: tuple[str, ...]
    alias: bool
    ttl: int | None


def answer(records: list[dict[str, Any]], name: str, record_type: str, healthy: Callable[[str], bool]) -> DnsAnswer:
    """What Route 53 answers for a failover pair: the primary while its health check is healthy,
    else the secondary. (An alias primary's EvaluateTargetHealth is not evaluated locally: the
    rehearsal's load balancer stand-in has one target, the primary its health check probes.)"""
    name = name.rstrip(".")  # zones list names with the root dot; some APIs echo them without
    pair = {
        r["Failover"]: r
        for r in records
        if r["Name"].rstrip(".") == name and r["Type"] == record_type and "Failover" in r
    }
    if set(pair) != {"PRIMARY", "SECONDARY"}:
        raise LookupError(f"no failover pair for {name} {record_type} (found {sorted(pair)})")
    primary = pair["PRIMARY"]
    use = primary if "HealthCheckId" not in primary or healthy(primary["HealthCheckId"]) else pair["SECONDARY"]
    if "AliasTarget" in use:
        return DnsAnswer(use["Failover"], (use["AliasTarget"]["DNSName"].rstrip("."),), alias=True, ttl=None)
    values = tuple(r["Value"] for r in use.get("ResourceRecords", []))
    return DnsAnswer(use["Failover"], values, alias=False, ttl=use.get("TTL"))
