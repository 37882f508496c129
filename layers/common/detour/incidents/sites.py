"""The site registry: which sites this Detour deployment protects, and each one's settings.

One item per site, all in one partition so that listing every site is one query:

    pk = SITES          sk = <site id>        domain, site_name, contact_url, default_message,
                                              retry_after_s, slack_channel, slack_mention,
                                              distribution_id, page_url, alarm_name, stack_name,
                                              endpoint_check_id, failover_check_id, signals,
                                              signals_to_fail_over, signal_insufficient_data,
                                              error_rate, template_version, registered_at
    pk = SITE_ALARMS    sk = <alarm name>     site_id

A site's id is its first endpoint health check's id, kept for life (ADR 0002): a replaced health
check, or a calculated check put in front of it for failover signals, changes what the alarm
watches but not the site, whose history, page and thread stay where they are. The second item finds
the site from the one thing every alarm notification carries that never changes, its alarm's name.

A site stack's `Custom::DetourSite` writes its item when the site is created or changed and deletes
it when the site is removed (its history under SITE#<id> stays). The functions read a site's
settings here, never from their environment, and act for no site that is not here: an alarm for an
unregistered health check, or from an alarm other than the site's own, is refused, so a forged
alarm message cannot make Detour act for an arbitrary health check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from detour.incidents.items import decode, encode, store_errors
from detour.incidents.transition import Transition

REGISTRY_PK = "SITES"
ALARMS_PK = "SITE_ALARMS"  # alarm name -> site id
PAGE_PREFIX = "sites"  # a site's page lives under sites/<endpoint check id>/ (its distribution's OriginPath)
DEFAULT_RETRY_AFTER_S = 120  # the site template's default, and the edge's fallback


class UnregisteredSite(LookupError):
    """An event or a request names a site this deployment does not protect (or not that way)."""


class SiteChoiceError(LookupError):
    """Which site was meant cannot be told: none matches, or several do. The text lists the sites."""


class SignalKind(StrEnum):
    ALARM = "alarm"  # an alarm the operator named
    ERROR_RATE = "error-rate"  # Detour's own target 5xx rate (functions/error_rate)


@dataclass(frozen=True, slots=True)
class Signal:
    """A CloudWatch alarm that, besides the endpoint probe, means "send visitors to the page"."""

    name: str
    kind: SignalKind
    alarm_name: str
    health_check_id: str  # the CLOUDWATCH_METRIC check that follows the alarm

    def to_value(self) -> dict[str, str]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "alarm_name": self.alarm_name,
            "health_check_id": self.health_check_id,
        }

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Signal:
        return cls(
            str(value["name"]), SignalKind(str(value["kind"])), str(value["alarm_name"]), str(value["health_check_id"])
        )


@dataclass(frozen=True, slots=True)
class ErrorRate:
    """The settings of a site's 5xx-rate signal: the 5xx its ALB's visitors got, of its requests (error_rate)."""

    target_group: str  # targetgroup/<name>/<id>
    load_balancer: str  # app/<name>/<id>
    threshold_percent: float
    minutes: int
    min_requests: int

    def to_value(self) -> dict[str, str]:
        return {
            "target_group": self.target_group,
            "load_balancer": self.load_balancer,
            "threshold_percent": f"{self.threshold_percent:g}",
            "minutes": str(self.minutes),
            "min_requests": str(self.min_requests),
        }

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> ErrorRate:
        return cls(
            str(value["target_group"]),
            str(value["load_balancer"]),
            float(value["threshold_percent"]),
            int(value["minutes"]),
            int(value["min_requests"]),
        )


@dataclass(frozen=True, slots=True)
class RegisteredSite:
    site_id: str  # the first endpoint health check's id, kept for life (ADR 0002)
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
    endpoint_check_id: str = ""  # the health check that probes the primary; empty: the site id
    failover_check_id: str = ""  # what the records and the alarm watch; empty: the endpoint check
    signals: tuple[Signal, ...] = ()
    signals_to_fail_over: int = 1
    signal_insufficient_data: str = "LastKnownStatus"
    error_rate: ErrorRate | None = None

    @property
    def endpoint_check(self) -> str:
        """The endpoint health check: what a drill or planned maintenance inverts."""
        return self.endpoint_check_id or self.site_id

    @property
    def failover_check(self) -> str:
        return self.failover_check_id or self.endpoint_check

    @property
    def page_prefix(self) -> str:
        """Where the site's index.html and status.json live in the page bucket."""
        return f"{PAGE_PREFIX}/{self.endpoint_check}/"

    def names(self) -> set[str]:
        """What an operator may call the site by: its id, domain, name or stack (case-insensitive)."""
        return {n.lower().rstrip(".") for n in (self.site_id, self.domain, self.site_name, self.stack_name) if n}

    def to_item(self) -> dict[str, Any]:
        values = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("site_id", "signals", "error_rate")
        }
        values["signals"] = [signal.to_value() for signal in self.signals]
        if self.error_rate is not None:
            values["error_rate"] = self.error_rate.to_value()
        return encode({"pk": REGISTRY_PK, "sk": self.site_id, **values})

    def alarm_item(self) -> dict[str, Any]:
        return encode({"pk": ALARMS_PK, "sk": self.alarm_name, "site_id": self.site_id})

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> RegisteredSite:
        values = decode(item)
        known = {f.name for f in fields(cls)} - {"site_id", "signals", "error_rate"}
        kwargs = {k: v for k, v in values.items() if k in known}
        kwargs["retry_after_s"] = int(values.get("retry_after_s", DEFAULT_RETRY_AFTER_S))
        kwargs["signals_to_fail_over"] = int(values.get("signals_to_fail_over", 1))
        error_rate = values.get("error_rate")
        return cls(
            site_id=str(values["sk"]),
            signals=tuple(Signal.from_value(value) for value in values.get("signals") or []),
            error_rate=ErrorRate.from_value(error_rate) if error_rate else None,
            **kwargs,
        )


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

    def by_alarm(self, alarm_name: str) -> RegisteredSite | None:
        """The site whose alarm this is, found by the alarm's name (two reads)."""
        with store_errors(self.table_name, f"finding the site of alarm {alarm_name}"):
            item = self._client.get_item(
                TableName=self.table_name, Key=encode({"pk": ALARMS_PK, "sk": alarm_name}), ConsistentRead=True
            ).get("Item")
        return self.get(str(decode(item)["site_id"])) if item else None

    def for_transition(self, transition: Transition) -> RegisteredSite:
        """The site an alarm transition is for, refused unless that site's own alarm sent it. A site
        registered before ADR 0002 has no alarm item until the hub's next deploy writes one: its id
        is then the health check its alarm watches. The alarm's name is what identifies it (unique
        in the account, and only CloudWatch may publish to the topic), not the check it watches:
        that changes as signals come and go, and a late or redriven message may carry an older one."""
        site = self.by_alarm(transition.alarm_name) or self.require(transition.health_check_id)
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
        """The site and the item that finds it by its alarm's name, together or not at all."""
        with store_errors(self.table_name, f"registering site {site.site_id}"):
            self._client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self.table_name, "Item": site.to_item()}},
                    {"Put": {"TableName": self.table_name, "Item": site.alarm_item()}},
                ]
            )

    def link_alarm(self, site: RegisteredSite) -> None:
        """Write only the item that finds `site` by its alarm's name (for sites registered before
        it existed): rewriting the site item from an earlier read could undo a concurrent change."""
        with store_errors(self.table_name, f"linking alarm {site.alarm_name} to site {site.site_id}"):
            self._client.put_item(TableName=self.table_name, Item=site.alarm_item())

    def remove(self, site: RegisteredSite) -> None:
        with store_errors(self.table_name, f"removing site {site.site_id} from the registry"):
            self._client.transact_write_items(
                TransactItems=[
                    {"Delete": {"TableName": self.table_name, "Key": encode({"pk": REGISTRY_PK, "sk": site.site_id})}},
                    {"Delete": {"TableName": self.table_name, "Key": encode({"pk": ALARMS_PK, "sk": site.alarm_name})}},
                ]
            )


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
