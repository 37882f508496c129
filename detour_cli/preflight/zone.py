"""The hosted zone: public, the zone of the domain, and with no record of the domain's name that the
site's failover pair would collide with."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from botocore.exceptions import ClientError

from detour_cli.preflight.result import Result, failed, passed
from detour_cli.preflight.settings import REDEPLOY, SiteSettings, local_setup, template_parameters

CHECK = "hosted-zone"
MOTO_ZONE_ID = r"^[A-Z0-9]{1,32}$"  # moto's zone ids do not start with Z: allowed only in the local test setup
PAIRED_TYPES = ("A", "AAAA", "CNAME")  # a CNAME of the name leaves room for no other record


def names_under(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def records_named(route53: Any, zone_id: str, name: str) -> list[dict[str, Any]]:
    """Every record set of exactly `name` (the listing starts at it and runs on in DNS order)."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"HostedZoneId": zone_id, "StartRecordName": name}
    while True:
        page = route53.list_resource_record_sets(**kwargs)
        for record in page["ResourceRecordSets"]:
            if record["Name"].rstrip(".").lower() != name:
                return found
            found.append(record)
        if not page.get("IsTruncated"):
            return found
        kwargs = {
            "HostedZoneId": zone_id,
            "StartRecordName": page["NextRecordName"],
            "StartRecordType": page["NextRecordType"],
            **({"StartRecordIdentifier": page["NextRecordIdentifier"]} if "NextRecordIdentifier" in page else {}),
        }


def zone_name_of(route53: Any, zone_id: str) -> str:
    """The zone's name, or '' when it cannot be read (check_zone says why)."""
    try:
        return str(route53.get_hosted_zone(Id=zone_id)["HostedZone"]["Name"]).rstrip(".").lower()
    except ClientError:
        return ""


def check_zone(route53: Any, settings: SiteSettings) -> Result:
    domain, zone_id = settings.domain, settings.zone_id
    pattern = str(template_parameters()["HostedZoneId"]["AllowedPattern"])
    if not re.fullmatch(pattern, zone_id) and not (local_setup() and re.fullmatch(MOTO_ZONE_ID, zone_id)):
        return failed(
            CHECK,
            f"{zone_id!r} is not a hosted zone id: sites/site.yaml takes {pattern} (a Z and up to 31 letters "
            "or digits), and the deploy would refuse it",
            f"give the id of the public zone that holds {domain} (without /hostedzone/):\n"
            f"aws route53 list-hosted-zones-by-name --dns-name {parent(domain)} --query 'HostedZones[].Id'",
        )
    try:
        zone = route53.get_hosted_zone(Id=zone_id)["HostedZone"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NoSuchHostedZone":
            raise
        return failed(
            CHECK,
            f"no hosted zone {zone_id} in this account",
            f"use the id of the public zone that holds {domain}:\n"
            f"aws route53 list-hosted-zones-by-name --dns-name {parent(domain)}",
        )
    zone_name = zone["Name"].rstrip(".").lower()
    if zone.get("Config", {}).get("PrivateZone"):
        return failed(
            CHECK,
            f"hosted zone {zone_id} ({zone_name}) is private",
            "visitors and Route 53's health checkers need the public zone: use its id:\n"
            f"aws route53 list-hosted-zones-by-name --dns-name {zone_name}",
        )
    if not names_under(domain, zone_name):
        return failed(
            CHECK,
            f"hosted zone {zone_id} is {zone_name}, which does not hold {domain}",
            f"use the zone whose name {domain} ends with:\naws route53 list-hosted-zones-by-name --dns-name "
            f"{parent(domain)}",
        )
    delegated = delegation_between(route53, zone_id, zone_name, domain)
    if delegated:
        return failed(
            CHECK,
            f"{zone_name} delegates {delegated} to other name servers: records for {domain} here are never served",
            f"use the hosted zone of {delegated}:\naws route53 list-hosted-zones-by-name --dns-name {delegated}",
        )
    return _collisions(route53, settings, zone_name)


def delegation_between(route53: Any, zone_id: str, zone_name: str, domain: str) -> str:
    """A name between the zone's apex and the domain (inclusive) that the zone delegates (NS), or ''."""
    labels = domain.split(".")
    apex_depth = len(zone_name.split("."))
    for depth in range(apex_depth + 1, len(labels) + 1):
        name = ".".join(labels[-depth:])
        if any(record["Type"] == "NS" for record in records_named(route53, zone_id, name)):
            return name
    return ""


def _collisions(route53: Any, settings: SiteSettings, zone_name: str) -> Result:
    domain, zone_id = settings.domain, settings.zone_id
    records = [r for r in records_named(route53, zone_id, domain) if r["Type"] in PAIRED_TYPES]
    failover = [r for r in records if "Failover" in r]
    plain = [r for r in records if "Failover" not in r]
    if plain:
        return failed(
            CHECK,
            f"{domain} already has {_describe(plain)} in {zone_name}: the failover pair cannot be created beside it",
            delete_fix(zone_id, plain, settings),
            *(f"  {line}" for record in plain for line in [record_line(record)]),
        )
    if failover and not settings.deployed:
        owners = ", ".join(sorted({r.get("SetIdentifier", "?") for r in failover}))
        return failed(
            CHECK,
            f"{domain} already has failover records in {zone_name} (set identifiers {owners})",
            "is the site deployed already? `detour site list` lists the registered sites, and "
            "`detour preflight --site NAME` checks one; otherwise delete that pair (whoever made it) first",
            *(f"  {record_line(record)}" for record in failover),
        )
    if settings.deployed:
        have = {(r.get("SetIdentifier", ""), r["Type"]) for r in failover}
        missing = [name for name, kind in settings.set_identifiers.items() if (name, kind) not in have]
        if missing:
            return failed(
                CHECK,
                f"{domain}'s failover pair is incomplete in {zone_name}: no {', '.join(missing)} "
                f"(stack {settings.site_stack})",
                REDEPLOY,
                *(f"  {record_line(record)}" for record in failover),
            )
        return passed(
            CHECK,
            f"hosted zone {zone_id} ({zone_name}) is public and holds {domain}; only its failover pair "
            f"({', '.join(sorted(r.get('SetIdentifier', '?') for r in failover)) or 'none found'})",
        )
    return passed(
        CHECK,
        f"hosted zone {zone_id} ({zone_name}) is public and holds {domain}; no A, AAAA or CNAME of that name yet",
    )


def _describe(records: list[dict[str, Any]]) -> str:
    kinds = sorted({("a routing-policy " if "SetIdentifier" in r else "a plain ") + r["Type"] for r in records})
    return " and ".join(kinds) + (" record" if len(records) == 1 else " records")


def record_line(record: dict[str, Any]) -> str:
    name = record["Name"].rstrip(".")
    policy = ""
    if "SetIdentifier" in record:
        policy = f" [{record['SetIdentifier']}{', ' + record['Failover'] if 'Failover' in record else ''}]"
    if "AliasTarget" in record:
        return f"{name} {record['Type']} alias {record['AliasTarget']['DNSName'].rstrip('.')}{policy}"
    values = " ".join(v["Value"] for v in record.get("ResourceRecords", []))
    return f"{name} {record['Type']} {values} (TTL {record.get('TTL', '?')}){policy}"


def delete_fix(zone_id: str, records: list[dict[str, Any]], settings: SiteSettings) -> str:
    """The change batch that deletes the records, exactly as Route 53 listed them (a DELETE must match)."""
    batch = {
        "Comment": f"Detour: make room for the failover pair of {settings.domain}",
        "Changes": [{"Action": "DELETE", "ResourceRecordSet": record} for record in records],
    }
    deploy = (
        f"sam deploy --config-file sites/<name>.toml (stack {settings.site_stack})"
        if settings.deployed
        else "sam deploy --config-file sites/<name>.toml"
    )
    return (
        "delete it and deploy the site in the same maintenance window, one right after the other (until the "
        "PRIMARY record exists the name does not resolve):\n"
        f"aws route53 change-resource-record-sets --hosted-zone-id {zone_id} --change-batch "
        f"{shlex.quote(json.dumps(batch, separators=(',', ':')))}\n"
        f"{deploy}"
    )


def parent(domain: str) -> str:
    labels = domain.split(".")
    return ".".join(labels[1:]) if len(labels) > 2 else domain
