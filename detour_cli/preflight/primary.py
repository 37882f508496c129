"""The primary as the site's parameters name it: not the failover name itself (the health check would
probe the maintenance page during failover and never recover), reachable by Route 53's checkers in
principle (a public address, an internet-facing balancer), and, for a load balancer, with the
canonical hosted zone id the alias record needs."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from detour_cli.preflight.result import Result, failed, passed, warned
from detour_cli.preflight.settings import LOCAL_SETUP_SWITCH, REGION, SiteSettings, local_setup
from detour_cli.preflight.zone import names_under, records_named

CHECK = "primary"
# A balancer's region, from its DNS name: an ALB's (or classic's) NAME-ID.REGION.elb.amazonaws.com, or an
# NLB's NAME-ID.elb.REGION.amazonaws.com.
_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]"
ELB_REGION = re.compile(rf"\.(?:(?P<alb>{_REGION})\.elb|elb\.(?P<nlb>{_REGION}))\.amazonaws\.com$")
DUALSTACK = "dualstack."
BALANCER_KINDS = {"application": "ALB", "network": "NLB", "gateway": "gateway load balancer"}


def balancer_region(dns_name: str) -> str:
    found = ELB_REGION.search(dns_name.lower().rstrip("."))
    return (found.group("alb") or found.group("nlb")) if found else REGION


def check_primary(route53: Any, elbv2: Any, settings: SiteSettings, zone_name: str) -> Result:
    target, domain = settings.primary_target, settings.domain
    loop = _through_the_failover_name(route53, settings, zone_name)
    if loop:
        return failed(
            CHECK,
            f"the primary {target} is {loop}: the health check would probe the maintenance page during a "
            "failover and never see the primary recover",
            "give the primary's own name or address: the load balancer's DNS name, or the Elastic IP:\n"
            f"aws elbv2 describe-load-balancers --region {REGION} --query 'LoadBalancers[].DNSName'",
        )
    if settings.primary_kind == "IPv4":
        return _check_address(target)
    return _check_balancer(elbv2, settings, domain)


def _through_the_failover_name(route53: Any, settings: SiteSettings, zone_name: str) -> str:
    target, domain = settings.primary_target, settings.domain
    if target == domain:
        return "the failover name itself"
    if not zone_name or not names_under(target, zone_name):
        return ""
    for record in records_named(route53, settings.zone_id, target):
        pointed = [v["Value"] for v in record.get("ResourceRecords", []) if record["Type"] == "CNAME"]
        pointed += [record["AliasTarget"]["DNSName"]] if "AliasTarget" in record else []
        if any(p.lower().rstrip(".") == domain for p in pointed):
            return f"a {record['Type']} record pointing at {domain}, the failover name"
    return ""


def _check_address(target: str) -> Result:
    try:
        address = ipaddress.ip_address(target)
    except ValueError:
        return failed(
            CHECK,
            f"{target} is not an IPv4 address: PrimaryKind IPv4 takes the Elastic IP",
            "give the Elastic IP, or PrimaryKind LoadBalancer for a load balancer's DNS name:\n"
            "aws ec2 describe-addresses --query 'Addresses[].PublicIp'",
        )
    if not address.is_global or address.is_multicast:
        # Route 53's HealthCheckConfig (IPAddress) cannot check local, private, non-routable or multicast
        # ranges: such a health check never sees the primary healthy.
        title = (
            f"{target} is not a public address (private, loopback, link-local, non-routable or multicast): "
            "Route 53's health checkers cannot check it"
        )
        fix = "give the Elastic IP, not a private address:\naws ec2 describe-addresses --query 'Addresses[].PublicIp'"
        if local_setup():  # the tests' and the README sample's loopback primaries, behind the explicit switch
            return warned(CHECK, title, fix, f"allowed only because {LOCAL_SETUP_SWITCH}=1 (a local test setup)")
        return failed(CHECK, title, fix)
    return passed(CHECK, f"{target} is a public IPv4 address (an Elastic IP, for the $0.50 AWS-endpoint price)")


def _check_balancer(elbv2: Any, settings: SiteSettings, domain: str) -> Result:
    target, zone = settings.primary_target, settings.primary_zone_id
    bare = target.removeprefix(DUALSTACK)
    balancer = _find_balancer(elbv2, bare)
    if balancer is None:
        return warned(
            CHECK,
            f"no ALB or NLB named {bare} in this account's {REGION}: its hosted zone id {zone} is not checked",
            "an ALB or NLB of another account or region: take the id from there; a classic load balancer: "
            "check the id yourself:\naws elb describe-load-balancers --query "
            "'LoadBalancerDescriptions[].[DNSName,CanonicalHostedZoneNameID]'",
        )
    actual = balancer["CanonicalHostedZoneId"]
    if actual != zone:
        return failed(
            CHECK,
            f"load balancer {balancer['LoadBalancerName']}'s canonical hosted zone id is {actual}, not {zone}: "
            "the alias record would be refused",
            f"set PrimaryHostedZoneId={actual} (--primary-hosted-zone-id {actual})",
        )
    if balancer.get("Scheme") == "internal":
        return failed(
            CHECK,
            f"load balancer {balancer['LoadBalancerName']} is internal: Route 53's health checkers and "
            f"{domain}'s visitors cannot reach it",
            "point the site at an internet-facing load balancer",
        )
    kind = BALANCER_KINDS.get(balancer.get("Type", ""), "load balancer")
    return passed(
        CHECK,
        f"{kind} {balancer['LoadBalancerName']}: internet-facing, canonical hosted zone id {actual} as given",
    )


def _find_balancer(elbv2: Any, dns_name: str) -> dict[str, Any] | None:
    kwargs: dict[str, Any] = {}
    while True:
        page = elbv2.describe_load_balancers(**kwargs)
        for balancer in page.get("LoadBalancers", []):
            if balancer.get("DNSName", "").lower().rstrip(".") == dns_name:
                found: dict[str, Any] = balancer
                return found
        if not page.get("NextMarker"):
            return None
        kwargs = {"Marker": page["NextMarker"]}
