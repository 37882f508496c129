"""The site registry: which sites this Detour deployment protects, and each one's settings.

One item per site, all in one partition so that listing every site is one query:

    pk = SITES    sk = <health check id>    domain, site_name, contact_url, default_message,
                                            retry_after_s, slack_channel, slack_mention,
                                            distribution_id, page_url, alarm_name, stack_name,
                                            template_version, registered_at

A site stack's `Custom::DetourSite` writes its item when the site is created or changed and deletes
it when the site is removed (its history under SITE#<id> stays). The functions read a site's
settings here, never from their environment, and act for no site that is not here: an alarm for an
unregistered health check, or from an alarm other than the site's own, is refused, so a forged
alarm message cannot make Detour act for an arbitrary health check.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from detour.incidents.items import decode, encode, store_errors
from detour.incidents.transition import Transition

REGISTRY_PK = "SITES"
PAGE_PREFIX = "sites"  # a site's page lives under sites/<site id>/ in the hub's page bucket
DEFAULT_RETRY_AFTER_S = 120  # the site template's default, and the edge's fallback


class UnregisteredSite(LookupError):
    """An event or a request names a site this deployment does not protect (or not that way)."""


class SiteChoiceError(LookupError):
    """Which site was meant cannot be told: none matches, or several do. The text lists the sites."""


@dataclass(frozen=True, slots=True)
class RegisteredSite:
    site_id: str  # the Route 53 health check id
    domain: str
    site_name: str
    alarm_name: str
    distribution_id: str
    page_url: str  # https://<distribution>.cloudfront.net/
    stack_name: str
    default_message: str
    contact_url: str = ""
    retry_after_s: int = DEFAULT_RETRY_AFTER_S
    slack_channel: str = ""  # empty: the channel in the hub's Slack secret
    slack_mention: str = ""
    template_version: str = ""
    registered_at: str = ""

    @property
    def page_prefix(self) -> str:
        """Where the site's index.html and status.json live in the page bucket."""
        return f"{PAGE_PREFIX}/{self.site_id}/"

    def names(self) -> set[str]:
        """What an operator may call the site by: its id, domain, name or stack (case-insensitive)."""
        return {n.lower().rstrip(".") for n in (self.site_id, self.domain, self.site_name, self.stack_name) if n}

    def to_item(self) -> dict[str, Any]:
        values = asdict(self)
        site_id = values.pop("site_id")
        return encode({"pk": REGISTRY_PK, "sk": site_id, **values})

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> RegisteredSite:
        values = decode(item)
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in values.items() if k in known}
        kwargs["retry_after_s"] = int(values.get("retry_after_s", DEFAULT_RETRY_AFTER_S))
        return cls(site_id=str(values["sk"]), **{k: v for k, v in kwargs.items() if k != "site_id"})


class SiteRegistry:
    """Reads (and, for the site custom resource, writes) the registry. `client`: boto3 DynamoDB."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._client = client

    def get(self, site_id: str) -> RegisteredSite | None:
        with store_errors(self.table_name, f"reading site {site_id} from the registry"):
            item = self._client.get_item(
                TableName=self.table_name, Key=encode({"pk": REGISTRY_PK, "sk": site_id}), ConsistentRead=True
            ).get("Item")
        return RegisteredSite.from_item(item) if item else None

    def require(self, site_id: str) -> RegisteredSite:
        site = self.get(site_id)
        if site is None:
            raise UnregisteredSite(
                f"site {site_id!r} is not registered with this Detour deployment (no site stack created it, "
                "or it was removed); nothing was done for it"
            )
        return site

    def for_transition(self, transition: Transition) -> RegisteredSite:
        """The site an alarm transition is for, refused unless that site's own alarm sent it."""
        site = self.require(transition.site_id)
        if transition.alarm_name != site.alarm_name:
            raise UnregisteredSite(
                f"alarm {transition.alarm_name!r} is not the registered alarm of site {site.site_id} "
                f"({site.domain}), which is {site.alarm_name!r}; nothing was done for it"
            )
        return site

    def all(self) -> list[RegisteredSite]:
        """Every registered site, ordered by domain."""
        sites: list[RegisteredSite] = []
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": encode({":pk": REGISTRY_PK}),
            "ConsistentRead": True,
        }
        with store_errors(self.table_name, "listing the registered sites"):
            while True:
                page = self._client.query(**arguments)
                sites.extend(RegisteredSite.from_item(item) for item in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(sites, key=lambda site: (site.domain, site.site_id))

    def put(self, site: RegisteredSite) -> None:
        with store_errors(self.table_name, f"registering site {site.site_id}"):
            self._client.put_item(TableName=self.table_name, Item=site.to_item())

    def remove(self, site_id: str) -> None:
        with store_errors(self.table_name, f"removing site {site_id} from the registry"):
            self._client.delete_item(TableName=self.table_name, Key=encode({"pk": REGISTRY_PK, "sk": site_id}))


def choose_site(sites: list[RegisteredSite], name: str | None) -> RegisteredSite:
    if not sites:
        raise SiteChoiceError("no site is registered yet: add one (README, Deploy: add a site)")
    if name is None or not name.strip():
        if len(sites) == 1:
            return sites[0]
        raise SiteChoiceError(f"this deployment protects {len(sites)} sites; say which: {describe(sites)}")
    wanted = name.strip().lower().rstrip(".")
    matches = [site for site in sites if wanted in site.names()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise SiteChoiceError(f"no site is called {name!r}; the sites are: {describe(sites)}")
    raise SiteChoiceError(f"{name!r} names {len(matches)} sites; use a health check id: {describe(matches)}")


def describe(sites: list[RegisteredSite]) -> str:
    return ", ".join(f"{site.domain} ({site.site_id})" for site in sites)
