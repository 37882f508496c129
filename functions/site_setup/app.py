"""site_setup: the CloudFormation custom resources that own the sites and their pages.

Custom::DetourSite (one per site stack):
    Create / Update -> check the site's settings -> register the site (the functions read its
    settings from the registry from then on) -> publish its page under sites/<site id>/.
    Delete -> remove every version of the site's page objects -> unregister it. Its incident
    history stays in the table.
Custom::DetourPages (the hub):
    Create / Update (a new layer: code or page template) -> republish every registered site's page.
    Delete -> remove every object version, so CloudFormation can delete the bucket.
Always answers CloudFormation, failures included: an unanswered request hangs the stack for an hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from detour.incidents.sites import PAGE_PREFIX, RegisteredSite, SiteRegistry
from detour.incidents.transition import format_time
from detour.page.publisher import PagePublisher
from detour.page.refresh import SitePages, page_settings
from detour.runtime import cfn_response
from detour.runtime.aws import cloudfront_client, dynamodb_client, s3_client
from detour.runtime.settings import Settings, required
from detour.runtime.tracing import traced

SITE = "Custom::DetourSite"
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
    before = registry.get(site.site_id)
    registry.put(site)
    try:
        refreshed = pages().refresh(site, datetime.now(UTC))
    except Exception:
        # CloudFormation rolls a failed Update back with an Update, never with a Delete of what this
        # one wrote: undo the registration here, or a replaced health check would leave a second site.
        if before is None:
            registry.remove(site.site_id)
        else:
            registry.put(before)
        raise
    return {
        "SiteId": site.site_id,
        "State": refreshed.status.state.value,
        "Published": str(refreshed.published).lower(),
    }


def remove_site(site_id: str) -> dict[str, str]:
    removed = PagePublisher(bucket, "", s3_client(), cloudfront_client(), prefix=f"{PAGE_PREFIX}/{site_id}/")
    count = removed.remove_everything()
    SiteRegistry(settings.table_name, dynamodb_client()).remove(site_id)
    return {"SiteId": site_id, "Removed": str(count)}


def republish_every_site() -> dict[str, str]:
    """After a hub deploy. A site that fails is logged and named in the answer, and the deploy goes
    on: one broken site must not roll back every site's upgrade (the sweep retries it)."""
    sites = SiteRegistry(settings.table_name, dynamodb_client()).all()
    sweep = pages().refresh_every_site(sites, datetime.now(UTC))
    for site_id, error in sweep.failed.items():
        logger.error("Republishing a site's page failed; the sweep retries it", failed_site=site_id, error=error)
    data = {"Sites": str(len(sites)), "Published": str(sweep.published)}
    return data | ({"Failed": sweep.failure_summary()[:1000]} if sweep.failed else {})


def empty_the_bucket() -> dict[str, str]:
    removed = PagePublisher(bucket, "", s3_client(), cloudfront_client()).remove_everything()
    return {"Removed": str(removed)}


def pages() -> SitePages:
    return SitePages(settings.table_name, bucket, dynamodb_client(), s3_client(), cloudfront_client())


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    request, kind = event.get("RequestType"), event.get("ResourceType")
    properties = event.get("ResourceProperties") or {}
    logger.append_keys(request=request, resource_type=kind, stack=event.get("StackId"))
    # A site is its health check: a new one is a new resource, and CloudFormation then deletes the
    # old one through us, which removes the old page and registration.
    physical_id = str(properties.get("SiteId") or event.get("PhysicalResourceId") or bucket)
    try:
        data = act(kind, request, properties, event.get("PhysicalResourceId"))
    except Exception as error:  # anything at all must still be reported to CloudFormation
        logger.exception("Custom resource request failed")
        cfn_response.send(event, status="FAILED", physical_id=physical_id, reason=f"{type(error).__name__}: {error}")
        return
    logger.info("Custom resource request done", extra=data)
    cfn_response.send(event, status="SUCCESS", physical_id=physical_id, data=data)


def act(kind: Any, request: Any, properties: Mapping[str, Any], physical_id: Any) -> dict[str, str]:
    if request not in ("Create", "Update", "Delete"):
        raise InvalidRequest(f"RequestType {request!r} is not Create, Update or Delete")
    if kind == SITE:
        if request != "Delete":
            return add_or_change_site(properties)
        site_id = str(properties.get("SiteId") or "").strip()
        return (
            remove_site(site_id) if site_id and is_this_stacks(site_id, physical_id, properties) else {"Removed": "0"}
        )
    if kind == PAGES:
        return republish_every_site() if request != "Delete" else empty_the_bucket()
    raise InvalidRequest(f"resource type {kind!r} is neither {SITE} nor {PAGES}")


def is_this_stacks(site_id: str, physical_id: Any, properties: Mapping[str, Any]) -> bool:
    """Whether a Delete is for the site `site_id`: its physical id is the site's, or (a Create whose
    answer never came, so CloudFormation made the physical id up) the site is registered by this
    very stack. A Create that failed on its properties registered nothing, and removes nothing."""
    if site_id == physical_id:
        return True
    registered = SiteRegistry(settings.table_name, dynamodb_client()).get(site_id)
    return registered is not None and registered.stack_name == _optional(properties, "StackName")


def registered_site(properties: Mapping[str, Any]) -> RegisteredSite:
    retry_after = _property(properties, "RetryAfterSeconds")
    if not retry_after.isdigit() or not 1 <= int(retry_after) <= 86400:
        raise InvalidRequest(
            f"RetryAfterSeconds must be a whole number of seconds from 1 to 86400, not {retry_after!r}"
        )
    return RegisteredSite(
        site_id=_property(properties, "SiteId"),
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
    )


def _property(properties: Mapping[str, Any], name: str) -> str:
    value = _optional(properties, name)
    if not value:
        raise InvalidRequest(f"custom resource property {name} is missing")
    return value


def _optional(properties: Mapping[str, Any], name: str) -> str:
    return str(properties.get(name, "")).strip()


lambda_handler = traced(handler, enabled=settings.tracing)
