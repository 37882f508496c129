"""CloudFront: an alternate name can be on one distribution only. The site's maintenance distribution
needs the domain as its alternate name, so no other distribution may hold it, and a primary that is
itself a CloudFront distribution can never fail over by DNS to a second one."""

from __future__ import annotations

from typing import Any

from detour_cli.preflight.result import Result, failed, passed
from detour_cli.preflight.settings import SiteSettings

CHECK = "cloudfront"
CLOUDFRONT_SUFFIX = ".cloudfront.net"


def distributions_with_alias(cloudfront: Any, domain: str) -> list[dict[str, Any]]:
    found = []
    kwargs: dict[str, Any] = {}
    while True:
        listing = cloudfront.list_distributions(**kwargs)["DistributionList"]
        for distribution in listing.get("Items", []):
            aliases = [a.lower().rstrip(".") for a in distribution.get("Aliases", {}).get("Items", [])]
            if domain in aliases:
                found.append(distribution)
        if not listing.get("IsTruncated"):
            return found
        kwargs = {"Marker": listing["NextMarker"]}


def check_cloudfront(cloudfront: Any, settings: SiteSettings) -> Result:
    domain, target = settings.domain, settings.primary_target
    if target.endswith(CLOUDFRONT_SUFFIX):
        return failed(
            CHECK,
            f"the primary {target} is a CloudFront distribution: DNS failover to a second distribution cannot "
            f"work for {domain}",
            f"{domain} must be an alternate name of the primary's distribution for it to serve the site, and "
            "CloudFront allows an alternate name on one distribution only, so Detour's maintenance distribution "
            "can never have it. Fail over inside that distribution instead: an origin group (origin failover) "
            "whose second origin serves the maintenance page, or custom error responses for 5xx that serve it; "
            "or put Detour in front of the distribution's own origin (its load balancer) under another name.",
        )
    holders = distributions_with_alias(cloudfront, domain)
    others = [d for d in holders if d["Id"] != settings.distribution_id]
    if others:
        names = ", ".join(f"{d['Id']} ({d['DomainName']})" for d in others)
        first = others[0]["Id"]
        return failed(
            CHECK,
            f"{domain} is an alternate name of distribution {names}: CloudFront refuses it on a second one",
            f"remove {domain} from that distribution's Aliases first (if that distribution serves the site, "
            "Detour cannot fail it over by DNS: use origin failover there instead). Take the name out of its "
            "DistributionConfig.Aliases (Quantity and Items) and update it with the ETag:\n"
            f"aws cloudfront get-distribution-config --id {first} > dist.json\n"
            f"aws cloudfront update-distribution --id {first} --if-match ETAG "
            "--distribution-config file://config.json",
        )
    if holders:
        return passed(
            CHECK, f"{domain} is an alternate name of its own maintenance distribution only ({holders[0]['Id']})"
        )
    return passed(CHECK, f"{domain} is not an alternate name of any distribution in this account")
