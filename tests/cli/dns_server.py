"""A local authoritative name server for the test zone that answers as Route 53 answers a
failover pair: the PRIMARY record while its health check is healthy, the SECONDARY otherwise.

It reads the records and the health check from moto on every query, so flipping the check's
Inverted flag (as a drill does) changes the answer. A site with failover signals (ADR 0002) puts a
CALCULATED check in front of the records: it is judged as Route 53 judges one, from its children.
An alarm-backed child is judged by default from its CloudWatch alarm's state (moto keeps no
AlarmIdentifier, so the test world tags the child with its alarm's name: ALARM_TAG), so setting a
signal's alarm to ALARM changes the answer too. Route 53 itself follows the alarm's metric data, not
its state: the drill tests put drill_world.ErrorRateData in place of `_alarm_healthy`, which judges
the 5xx-rate child by CloudWatch's evaluation of its data, so only the 100 % that
`detour drill --signal "5xx rate"` publishes moves it. Alias targets (the distribution, a load
balancer) resolve through `names`, which the server also answers directly: it doubles as the
recursive resolver the CLI uses for those names in tests.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import boto3
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import dns.rrset

HEALTHY_SHARE = 0.18
ALARM_TAG = "detour-test:alarm"  # on an alarm-backed check: the name of its alarm
# On a calculated check: its children, comma-separated. moto 5.2 forgets ChildHealthChecks when the
# check is updated (Inverted by planned maintenance); Route 53 keeps them.
CHILDREN_TAG = "detour-test:children"


class AuthoritativeTestServer:
    def __init__(
        self,
        zone_id: str,
        names: dict[str, list[str]],
        *,
        alias_answers: dict[str, list[str]] | None = None,
        pointers: dict[str, str] | None = None,
    ) -> None:
        """`alias_answers` overrides what an alias target resolves to in the zone's answer (CloudFront
        gives different edges to different askers); `pointers` are PTR names by address."""
        self.zone_id = zone_id
        self.names = {_plain(name): addresses for name, addresses in names.items()}
        self.alias_answers = {_plain(name): addresses for name, addresses in (alias_answers or {}).items()}
        self.pointers = {
            dns.reversename.from_address(address).to_text(): target for address, target in (pointers or {}).items()
        }
        self.queries = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.address = f"127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="authoritative-dns", daemon=True)

    def __enter__(self) -> AuthoritativeTestServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, client = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            self.queries += 1
            query = dns.message.from_wire(wire)
            try:
                response = self.respond(query)
            except Exception:  # a broken lookup is a SERVFAIL to the client, as a real server would say
                response = dns.message.make_response(query)
                response.set_rcode(dns.rcode.SERVFAIL)
            self._sock.sendto(response.to_wire(), client)

    def respond(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        question = query.question[0]
        name = _plain(question.name.to_text())
        if question.rdtype == dns.rdatatype.PTR and question.name.to_text() in self.pointers:
            target = self.pointers[question.name.to_text()]
            response.answer.append(
                dns.rrset.from_text_list(question.name, 60, dns.rdataclass.IN, dns.rdatatype.PTR, [target + "."])
            )
            return response
        addresses = self.answer(name) if question.rdtype == dns.rdatatype.A else None
        if addresses is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        response.flags |= dns.flags.AA
        response.answer.append(
            dns.rrset.from_text_list(question.name, 60, dns.rdataclass.IN, dns.rdatatype.A, addresses)
        )
        return response

    def answer(self, name: str) -> list[str] | None:
        if name in self.names:
            return self.names[name]
        records = [r for r in _records(self.zone_id) if _plain(r["Name"]) == name and r["Type"] == "A"]
        if not records:
            return None
        by_role = {r.get("Failover"): r for r in records}
        primary = by_role.get("PRIMARY")
        chosen = primary if primary and healthy(primary["HealthCheckId"]) else by_role.get("SECONDARY")
        if chosen is None:
            return None
        if "AliasTarget" in chosen:
            target = _plain(chosen["AliasTarget"]["DNSName"])
            return self.alias_answers.get(target) or self.names.get(target, [])
        return [r["Value"] for r in chosen["ResourceRecords"]]


def _records(zone_id: str) -> list[dict[str, Any]]:
    return boto3.client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]


def healthy(check_id: str) -> bool:
    """Route 53's rule: more than 18% of checkers healthy, turned over by Inverted; Disabled is healthy.
    A calculated check: at least HealthThreshold of its children healthy; an alarm-backed one: its
    alarm not in ALARM (INSUFFICIENT_DATA as InsufficientDataHealthStatus says, LastKnownStatus as healthy)."""
    route53 = boto3.client("route53")
    config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
    if config.get("Disabled"):
        return True
    if config.get("Type") == "CALCULATED":
        children = config.get("ChildHealthChecks") or _tag(route53, check_id, CHILDREN_TAG).split(",")
        verdict = sum(healthy(child) for child in children) >= int(config.get("HealthThreshold", len(children)))
    elif config.get("Type") == "CLOUDWATCH_METRIC":
        verdict = _alarm_healthy(route53, check_id, config)
    else:
        observations = route53.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
        passing = sum(o["StatusReport"]["Status"].startswith("Success") for o in observations)
        verdict = bool(observations) and passing / len(observations) > HEALTHY_SHARE
    return verdict != bool(config.get("Inverted"))


def _tag(route53: Any, check_id: str, key: str) -> str:
    tags = route53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id)["ResourceTagSet"]["Tags"]
    return next((str(tag["Value"]) for tag in tags if tag["Key"] == key), "")


def _alarm_healthy(route53: Any, check_id: str, config: dict[str, Any]) -> bool:
    name = _tag(route53, check_id, ALARM_TAG)
    alarms = boto3.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"] if name else []
    state = alarms[0]["StateValue"] if alarms else "INSUFFICIENT_DATA"
    if state == "INSUFFICIENT_DATA":
        return config.get("InsufficientDataHealthStatus") != "Unhealthy"
    return state != "ALARM"


def _plain(name: str) -> str:
    return name.rstrip(".").lower()
