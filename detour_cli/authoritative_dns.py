"""What a zone's own name servers answer for a name right now, asked directly: no caching
resolver in between, so the answer is Route 53's current failover decision, not a cached one.

Other names (the name servers' own addresses, the distribution's, a load balancer's) are resolved
the usual way, through the machine's resolver or one given explicitly (tests use a local server).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.reversename

QUERY_TIMEOUT_S = 3.0
PRIMARY, MAINTENANCE, UNKNOWN = "primary", "maintenance", "unknown"
CLOUDFRONT_HOSTS = ".cloudfront.net"  # CloudFront edge addresses reverse-resolve to server-….r.cloudfront.net


@dataclass(frozen=True, slots=True)
class NameServer:
    name: str  # as the zone lists it, or as given with --nameserver
    address: str
    port: int = 53


@dataclass(frozen=True, slots=True)
class ServerAnswer:
    server: NameServer
    addresses: tuple[str, ...] = ()
    error: str | None = None  # timeout, refused, NXDOMAIN ...: the server gave no usable answer


@dataclass(frozen=True, slots=True)
class Verdict:
    serving: str  # PRIMARY, MAINTENANCE or UNKNOWN
    addresses: tuple[str, ...]  # what the first server that answered said
    disagreeing: bool = False  # the servers gave different answers (a change still propagating)
    answers: list[ServerAnswer] = field(default_factory=list)
    matched_by: str = ""  # how the answer was recognised


def parse_host_port(text: str, default_port: int = 53) -> tuple[str, int]:
    """`HOST`, `HOST:PORT` or `[IPv6]:PORT`."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, default_port


class NameLookup:
    """Resolves names to IPv4 addresses through a recursive resolver: the machine's, or `resolver`."""

    def __init__(self, resolver: tuple[str, int] | None = None) -> None:
        self._resolver = dns.resolver.Resolver(configure=resolver is None)
        if resolver is not None:
            self._resolver.nameservers = [resolver[0]]
            self._resolver.port = resolver[1]
        self._resolver.lifetime = QUERY_TIMEOUT_S * 2

    def addresses(self, name: str) -> tuple[str, ...]:
        """The name's A records; an empty tuple when it does not resolve."""
        if _is_ipv4(name):
            return (name,)
        try:
            answer = self._resolver.resolve(name, "A", search=False)
        except dns.exception.DNSException:
            return ()
        return tuple(sorted(record.address for record in answer))

    def reverse(self, address: str) -> str | None:
        """The address's PTR name, or None."""
        try:
            answer = self._resolver.resolve(dns.reversename.from_address(address), "PTR", search=False)
        except (dns.exception.DNSException, ValueError):
            return None
        return str(answer[0].target).rstrip(".").lower() if answer else None


def ask(server: NameServer, name: str, timeout: float = QUERY_TIMEOUT_S) -> ServerAnswer:
    """One non-recursive A query to one server (UDP, then TCP if the answer was truncated)."""
    query = dns.message.make_query(name, dns.rdatatype.A)
    query.flags &= ~dns.flags.RD  # an authoritative server answers from its zone; no recursion asked
    try:
        response = dns.query.udp(query, server.address, port=server.port, timeout=timeout)
        if response.flags & dns.flags.TC:
            response = dns.query.tcp(query, server.address, port=server.port, timeout=timeout)
    except dns.exception.Timeout:
        return ServerAnswer(server, error=f"no answer within {timeout:g} s")
    except (OSError, dns.exception.DNSException) as error:
        return ServerAnswer(server, error=f"{type(error).__name__}: {error}")
    if response.rcode() != dns.rcode.NOERROR:
        return ServerAnswer(server, error=dns.rcode.to_text(response.rcode()))
    found = {record.address for rrset in response.answer if rrset.rdtype == dns.rdatatype.A for record in rrset}
    if not found:
        return ServerAnswer(server, error="no A record in the answer")
    return ServerAnswer(server, addresses=tuple(sorted(found)))


def judge(
    answers: list[ServerAnswer],
    primary: tuple[str, ...],
    maintenance: tuple[str, ...],
    reverse: Callable[[str], str | None] | None = None,
) -> Verdict:
    """Is the authoritative answer the primary, the maintenance distribution, or neither we can tell?

    CloudFront picks edge addresses by where the question comes from, so the distribution's name
    resolved here may not list the addresses Route 53 answered. When the addresses match neither,
    `reverse` (a PTR lookup) can still recognise CloudFront edges: the primary is never on CloudFront.
    """
    answered = [a for a in answers if a.addresses]
    if not answered:
        return Verdict(UNKNOWN, (), answers=answers)
    addresses = answered[0].addresses
    disagreeing = any(set(a.addresses) != set(addresses) for a in answered)
    serving, matched_by = classify(addresses, primary, maintenance), "addresses"
    if serving == UNKNOWN:
        matched_by = ""
        names = [reverse(address) for address in addresses] if reverse and not set(addresses) & set(primary) else []
        if names and all(name and name.endswith(CLOUDFRONT_HOSTS) for name in names):
            serving, matched_by = MAINTENANCE, f"reverse DNS ({names[0]})"
    return Verdict(serving, addresses, disagreeing, answers, matched_by)


def classify(addresses: tuple[str, ...], primary: tuple[str, ...], maintenance: tuple[str, ...]) -> str:
    """`unknown` when the answer matches neither, or both (then nothing can be said honestly)."""
    seen = set(addresses)
    is_primary, is_maintenance = bool(seen & set(primary)), bool(seen & set(maintenance))
    if is_primary == is_maintenance:
        return UNKNOWN
    return PRIMARY if is_primary else MAINTENANCE


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True
