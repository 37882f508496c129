"""site_setup: the CloudFormation custom resources that own the sites and their pages.

Custom::DetourSite (one per site stack):
    Create / Update -> check the site's settings -> register the site (the functions read its
    settings from the registry from then on) -> publish its page under sites/<endpoint check id>/.
    A registered site keeps its id (and its history) when its health checks change (ADR 0002).
    Delete -> remove every version of the site's page objects -> unregister it. Its incident
    history stays in the table.
Custom::DetourPages (the hub):
    Create / Update (a new layer: code or page template) -> republish every registered site's page.
    Delete -> remove every object version, so CloudFormation can delete the bucket.
Always answers CloudFormation, failures included: an unanswered request hangs the stack for an hour.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from detour.incidents.sites import ErrorRate, RegisteredSite, Signal, SignalKind, SiteRegistry
from detour.incidents.transition import format_time
from detour.page.publisher import PagePublisher
from detour.page.refresh import SitePages, page_settings
from detour.runtime import cfn_response
from detour.runtime.aws import cloudfront_client, dynamodb_client, s3_client
from detour.runtime.settings import Settings, required
from detour.runtime.tracing import traced

SITE = "Custom::DetourSite"
HEALTH_CHECK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PAGES = "Custom::DetourPages"

settings = Settings.from_env()
bucket = required("PAGE_BUCKET")
logger = Logger()


class InvalidRequest(ValueError):
    """The custom resource's type or properties are missing or unusable."""


def add_or_change_site(properties: Mapping[str, Any]) -> dict[str, str]:
    site = registered_site(properties)
    page_settings(site)  # a bad contact URL or an empty name fails the deploy, before anything is written
    registry = SiteRegistry(settings.table_name, dynamodb_client())
    before = registry.by_alarm(site.alarm_name) or registry.get(site.endpoint_check)
    if before is not None and before.stack_name == site.stack_name:
        # The site keeps its id for life: a replaced health check or a new calculated check in
        # front of it leaves its history, thread and open incident where they are (ADR 0002).
        site = replace(site, site_id=before.site_id)
    registry.put(site)
    try:
        refreshed = pages().refresh(site, datetime.now(UTC))
    except Exception:
        # CloudFormation rolls a failed Update back with an Update, never with a Delete of what this
        # one wrote: undo the registration here.
        if before is None:
            registry.remove(site)
        else:
            registry.put(before)
        raise
    data = {
        "SiteId": site.site_id,
        "State": refreshed.status.state.value,
        "Published": str(refreshed.published).lower(),
    }
    if before is not None and before.site_id == site.site_id and before.page_prefix != site.page_prefix:
        # the endpoint check was replaced, and the distribution reads the new prefix (OriginPath)
        data["RemovedOldPage"] = str(page_publisher(before.page_prefix).remove_everything())
    return data


def remove_site(properties: Mapping[str, Any], physical_id: Any) -> dict[str, str]:
    """Remove what this stack registered: its page objects (every version), then its registration.
    Its incident history stays in the table."""
    registry = SiteRegistry(settings.table_name, dynamodb_client())
    alarm_name, endpoint_check = _optional(properties, "AlarmName"), _endpoint_check(properties)
    registered = (registry.by_alarm(alarm_name) if alarm_name else None) or (
        registry.get(endpoint_check) if endpoint_check else None
    )
    if registered is None or not is_this_stacks(registered, physical_id, properties):
        return {"Removed": "0"}
    count = page_publisher(registered.page_prefix).remove_everything()
    registry.remove(registered)
    return {"SiteId": registered.site_id, "Removed": str(count)}


def page_publisher(prefix: str) -> PagePublisher:
    return PagePublisher(bucket, "", s3_client(), cloudfront_client(), prefix=prefix)


def republish_every_site() -> dict[str, str]:
    """After a hub deploy. A site that fails is logged and named in the answer, and the deploy goes
    on: one broken site must not roll back every site's upgrade (the sweep retries it)."""
    registry = SiteRegistry(settings.table_name, dynamodb_client())
    sites = registry.all()
    unlinked = link_alarms(registry, sites)
    sweep = pages().refresh_every_site(sites, datetime.now(UTC))
    for site_id, error in sweep.failed.items():
        logger.error("Republishing a site's page failed; the sweep retries it", failed_site=site_id, error=error)
    failed = [*([sweep.failure_summary()] if sweep.failed else []), *unlinked]
    data = {"Sites": str(len(sites)), "Published": str(sweep.published)}
    return data | ({"Failed": "; ".join(failed)[:1000]} if failed else {})


def link_alarms(registry: SiteRegistry, sites: list[RegisteredSite]) -> list[str]:
    """Give sites registered before alarm items (ADR 0002) theirs. An alarm name two registered
    items claim (a leftover of a stack re-created under the same name) is left for an operator:
    linking either could send the live site's alarms to the wrong one. Returns what was not linked."""
    claims: dict[str, list[RegisteredSite]] = {}
    for site in sites:
        claims.setdefault(site.alarm_name, []).append(site)
    unlinked = []
    for alarm_name, claimants in claims.items():
        ids = ", ".join(site.site_id for site in claimants)
        if len(claimants) > 1:
            logger.error("Two registered sites claim one alarm; not linked", alarm=alarm_name, sites=ids)
            unlinked.append(f"{alarm_name}: registered to {ids}; remove the stale one")
            continue
        try:
            registry.link_alarm(claimants[0])
        except Exception as error:  # reported in the answer and the log, never swallowed
            logger.exception("Linking a site's alarm failed", alarm=alarm_name, failed_site=ids)
            unlinked.append(f"{alarm_name}: {type(error).__name__}: {error}")
    return unlinked


def empty_the_bucket() -> dict[str, str]:
    removed = page_publisher("").remove_everything()
    return {"Removed": str(removed)}


def pages() -> SitePages:
    return SitePages(settings.table_name, bucket, dynamodb_client(), s3_client(), cloudfront_client())


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    request, kind = event.get("RequestType"), event.get("ResourceType")
    properties = event.get("ResourceProperties") or {}
    logger.append_keys(request=request, resource_type=kind, stack=event.get("StackId"))
    # A site's physical id is its site id, which it keeps for life: CloudFormation never replaces
    # (and so never deletes) a site because one of its health checks was replaced.
    earlier = event.get("PhysicalResourceId")
    try:
        data = act(kind, request, properties, earlier)
    except Exception as error:  # anything at all must still be reported to CloudFormation
        logger.exception("Custom resource request failed")
        failed_id = str(
            earlier or (f"unregistered-{_endpoint_check(properties) or 'site'}" if kind == SITE else bucket)
        )
        cfn_response.send(event, status="FAILED", physical_id=failed_id, reason=f"{type(error).__name__}: {error}")
        return
    logger.info("Custom resource request done", extra=data)
    physical_id = data.get("SiteId") or str(earlier or bucket)
    cfn_response.send(event, status="SUCCESS", physical_id=physical_id, data=data)


def act(kind: Any, request: Any, properties: Mapping[str, Any], physical_id: Any) -> dict[str, str]:
    if request not in ("Create", "Update", "Delete"):
        raise InvalidRequest(f"RequestType {request!r} is not Create, Update or Delete")
    if kind == SITE:
        return add_or_change_site(properties) if request != "Delete" else remove_site(properties, physical_id)
    if kind == PAGES:
        return republish_every_site() if request != "Delete" else empty_the_bucket()
    raise InvalidRequest(f"resource type {kind!r} is neither {SITE} nor {PAGES}")


def is_this_stacks(registered: RegisteredSite, physical_id: Any, properties: Mapping[str, Any]) -> bool:
    """Whether a Delete is for the registered site: its physical id is the site's, or (a Create whose
    answer never came, so CloudFormation made the physical id up) the site is registered by this
    very stack. A Create that failed registered nothing ("unregistered-…"), and removes nothing."""
    if registered.site_id == physical_id:
        return True
    made_up = not HEALTH_CHECK_ID.match(str(physical_id)) and not str(physical_id).startswith("unregistered-")
    return made_up and registered.stack_name == _optional(properties, "StackName")


def registered_site(properties: Mapping[str, Any]) -> RegisteredSite:
    retry_after = _property(properties, "RetryAfterSeconds")
    if not retry_after.isdigit() or not 1 <= int(retry_after) <= 86400:
        raise InvalidRequest(
            f"RetryAfterSeconds must be a whole number of seconds from 1 to 86400, not {retry_after!r}"
        )
    endpoint_check = _endpoint_check(properties)
    if not endpoint_check:
        raise InvalidRequest("custom resource property EndpointCheckId is missing")
    return RegisteredSite(
        site_id=endpoint_check,  # a new site's id; a registered one keeps its own (add_or_change_site)
        domain=_property(properties, "Domain"),
        site_name=_property(properties, "SiteName"),
        alarm_name=_property(properties, "AlarmName"),
        distribution_id=_property(properties, "DistributionId"),
        page_url=f"https://{_property(properties, 'DistributionDomainName')}/",
        stack_name=_property(properties, "StackName"),
        default_message=_property(properties, "DefaultMessage"),
        contact_url=_optional(properties, "ContactUrl"),
        retry_after_s=int(retry_after),
        slack_channel=_optional(properties, "SlackChannel"),
        slack_mention=_optional(properties, "SlackMention"),
        template_version=_optional(properties, "SiteTemplateVersion"),
        registered_at=format_time(datetime.now(UTC)),
        endpoint_check_id=endpoint_check,
        failover_check_id=_optional(properties, "FailoverCheckId") or endpoint_check,
        signals=signals(properties.get("Signals")),
        signals_to_fail_over=_whole(properties, "SignalsToFailOver", default="1", lowest=1, highest=256),
        signal_insufficient_data=_optional(properties, "SignalInsufficientData") or "LastKnownStatus",
        error_rate=error_rate(properties.get("ErrorRate")),
    )


def signals(value: Any) -> tuple[Signal, ...]:
    if value in (None, ""):
        return ()
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise InvalidRequest(
            "custom resource property Signals must be a list of {Name, Kind, AlarmName, HealthCheckId}"
        )
    try:
        return tuple(
            Signal(
                name=_property(item, "Name"),
                kind=SignalKind(_property(item, "Kind")),
                alarm_name=_property(item, "AlarmName"),
                health_check_id=_property(item, "HealthCheckId"),
            )
            for item in value
        )
    except ValueError as error:
        raise InvalidRequest(f"custom resource property Signals: {error}") from None


def error_rate(value: Any) -> ErrorRate | None:
    if value in (None, ""):
        return None
    if not isinstance(value, Mapping):
        raise InvalidRequest("custom resource property ErrorRate must be a map")
    try:
        threshold = float(_property(value, "ThresholdPercent"))
    except ValueError:
        raise InvalidRequest("ErrorRate.ThresholdPercent must be a number") from None
    if not 0 < threshold <= 100:
        raise InvalidRequest(f"ErrorRate.ThresholdPercent must be above 0 and at most 100, not {threshold:g}")
    return ErrorRate(
        target_group=_property(value, "TargetGroup"),
        load_balancer=_property(value, "LoadBalancer"),
        threshold_percent=threshold,
        minutes=_whole(value, "Minutes", default="3", lowest=1, highest=60),
        min_requests=_whole(value, "MinRequests", default="20", lowest=0, highest=1_000_000),
    )


def _whole(properties: Mapping[str, Any], name: str, *, default: str, lowest: int, highest: int) -> int:
    text = _optional(properties, name) or default
    if not text.isdigit() or not lowest <= int(text) <= highest:
        raise InvalidRequest(f"{name} must be a whole number from {lowest} to {highest}, not {text!r}")
    return int(text)


def _endpoint_check(properties: Mapping[str, Any]) -> str:
    """The endpoint health check's id; site stacks older than ADR 0002 send it as SiteId."""
    return _optional(properties, "EndpointCheckId") or _optional(properties, "SiteId")


def _property(properties: Mapping[str, Any], name: str) -> str:
    value = _optional(properties, name)
    if not value:
        raise InvalidRequest(f"custom resource property {name} is missing")
    return value


def _optional(properties: Mapping[str, Any], name: str) -> str:
    return str(properties.get(name, "")).strip()


lambda_handler = traced(handler, enabled=settings.tracing)
