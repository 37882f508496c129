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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CONNECT_TIMEOUT_S = 4.0
ANSWER_TIMEOUT_S = 2.0
SEARCH_WINDOW = 5120
HEALTHY_SHARE = 0.18
DEFAULT_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1")


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
    def from_template(cls, config: dict[str, Any], *, interval_s: float | None = None) -> HealthCheckConfig:
        """From the health check's resolved HealthCheckConfig; `interval_s` shortens time for a rehearsal."""
        return cls(
            protocol=config["Type"],
            address=config.get("IPAddress") or config["FullyQualifiedDomainName"],
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
    try:
        if config.protocol == "TCP":
            with socket.create_connection((config.address, config.port), timeout=CONNECT_TIMEOUT_S):
                return True
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
            connection.request("GET", config.path, headers={"Host": host})
            response = connection.getresponse()
            ok = 200 <= response.status < 400
            if ok and config.protocol.endswith("_STR_MATCH"):
                ok = config.search_string.encode() in response.read(SEARCH_WINDOW)
            return ok and time.monotonic() <= answered_by  # the whole answer within 2 s
        finally:
            connection.close()
    except OSError:
        return False


@dataclass
class Checker:
    """One checker region's verdict, which only flips after `threshold` consecutive contrary results."""

    region: str
    threshold: int
    healthy: bool | None = None  # unknown until its first probe
    _streak: int = 0

    def observe(self, ok: bool) -> None:
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


class Prober:
    """Runs the checkers every interval in the background and reports each round's verdict (the
    HealthCheckStatus datapoint) once it is known."""

    def __init__(
        self,
        check: HealthCheck,
        on_round: Callable[[bool], None],
        probe_once: Callable[[HealthCheckConfig], bool] = probe,
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
                checker.observe(self._probe(self.check.config))
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
    rehearsal's primary is an IP record.)"""
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
