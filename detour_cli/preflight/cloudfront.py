"""CloudFront: an alternate name can be on one distribution only. The site's maintenance distribution
needs the domain as its alternate name, so no other distribution may hold it, and a primary that is
itself a CloudFront distribution can never fail over by DNS to a second one."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from detour_cli.output import printable
from detour_cli.preflight.result import Result, failed, passed, warned
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
    if not settings.distribution_id:
        return warned(
            CHECK,
            f"{domain} is not an alternate name of any distribution in this account; other accounts' "
            "distributions could not be looked at",
            "nothing to do before the deploy: CloudFront refuses the site's distribution then if another account "
            "holds the name. (ListConflictingAliases sees other accounts, but it needs a distribution of this "
            "account whose certificate covers the name: preflight --site runs it once the site is deployed.)",
        )
    return _other_accounts(cloudfront, settings, holders)


def same_id(masked: str, own: str) -> bool:
    """ListConflictingAliases hides most of another's ids (******ABCD): does `masked` fit `own`?"""
    return len(masked) == len(own) and all(m in ("*", o) for m, o in zip(masked, own, strict=True))


def _other_accounts(cloudfront: Any, settings: SiteSettings, holders: list[dict[str, Any]]) -> Result:
    """A deployed site: ListConflictingAliases on its own distribution sees every account's."""
    domain, own = settings.domain, settings.distribution_id
    here = (
        f"{domain} is an alternate name of its own maintenance distribution only ({holders[0]['Id']})"
        if holders
        else f"{domain} is not an alternate name of any distribution in this account"
    )
    try:
        listing = cloudfront.list_conflicting_aliases(DistributionId=own, Alias=domain)["ConflictingAliasesList"]
    except (ClientError, BotoCoreError) as error:
        code = error.response.get("Error", {}).get("Code", "?") if isinstance(error, ClientError) else str(error)
        return warned(
            CHECK,
            f"{here}; other accounts' distributions could not be looked at (ListConflictingAliases: "
            f"{printable(str(code))})",
            "allow cloudfront:ListConflictingAliases and run preflight again, or look yourself:\n"
            f"aws cloudfront list-conflicting-aliases --distribution-id {own} --alias {domain}",
        )
    conflicts = [
        item
        for item in listing.get("Items", []) or []
        if str(item.get("Alias", "")).lower().rstrip(".") == domain
        and not same_id(str(item.get("DistributionId", "")), own)
    ]
    if conflicts:
        names = ", ".join(f"{c.get('DistributionId', '?')} (account {c.get('AccountId', '?')})" for c in conflicts)
        return failed(
            CHECK,
            f"{domain} is an alternate name of another account's distribution too: {names}",
            f"the other account must remove {domain} from that distribution's Aliases (or move it to this one: "
            "aws cloudfront associate-alias, with a TXT record proving the name). Until then the name serves "
            "that distribution, not this site's failover pair",
        )
    return passed(CHECK, f"{here}; no other account's distribution holds it either")
