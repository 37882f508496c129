"""refresh_page: keep every site's maintenance page and its status.json in step with its incident.

Three events, one story:
- a site's health-check alarm (SNS) -> refuse an unregistered site -> once per transition: record it;
- a refresh asked for directly ({"detour": "refresh", "site_id": ...}: an update was posted) -> the
  registered site, or a refusal;
- the schedule (every 5 minutes: a resolution stops being news after RESOLVED_FOR, with no alarm)
  -> every registered site;
then, per site: read its newest transition, windows, notice and timeline, render index.html and
status.json, upload them under the site's prefix unless the same or a newer page is there,
invalidate them at the site's distribution -> metrics.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from detour.incidents.sites import RegisteredSite, SiteRegistry, UnregisteredSite
from detour.incidents.transition import Transition, format_time
from detour.page.publisher import PagePublishError
from detour.page.refresh import InvalidRefreshRequest, Refreshed, RefreshRequest, SitePages, refresh_request
from detour.runtime.aws import cloudfront_client, dynamodb_client, s3_client
from detour.runtime.lambda_support import (
    alarm_for_site,
    idempotency_config,
    once_per_transition,
    recorded_cause,
    traced,
)
from detour.runtime.settings import Settings, required

settings = Settings.from_env()
bucket = required("PAGE_BUCKET")
logger = Logger()
metrics = Metrics()
idempotency = idempotency_config()


def republish(site: RegisteredSite, transition: Transition | None = None) -> Refreshed:
    # Why an ALARM's outage failed over, read once for every function: the page says it at once.
    cause = recorded_cause(transition, site, settings.table_name, logger) if transition is not None else None
    pages = SitePages(settings.table_name, bucket, dynamodb_client(), s3_client(), cloudfront_client())
    refreshed = pages.refresh(site, datetime.now(UTC), transition, cause)
    if refreshed.published:
        metrics.add_metric(name="PageRefreshed", unit=MetricUnit.Count, value=1)
    return refreshed


@once_per_transition(settings.table_name, idempotency)
def refresh_for(*, transition: Transition, site: RegisteredSite) -> dict[str, Any]:
    refreshed = republish(site, transition)
    return {
        "site_id": transition.site_id,
        "transition": transition.new_state.value,
        "changed_at": format_time(transition.changed_at),
        **page_summary(refreshed),
    }


def refresh_as_asked(request: RefreshRequest) -> dict[str, Any]:
    registry = SiteRegistry(settings.table_name, dynamodb_client())
    if request.site_id is None:
        return refresh_every_site(registry.all(), request.reason)
    try:
        site = registry.require(request.site_id)
    except UnregisteredSite as error:
        logger.error("Refused a refresh for an unregistered site; failing so it is dead-lettered", error=str(error))
        raise
    return {"site_id": site.site_id, "reason": request.reason, **page_summary(republish(site))}


def refresh_every_site(sites: list[RegisteredSite], reason: str) -> dict[str, Any]:
    """The schedule: every site's page. One site's failure holds up no other; it fails the
    invocation afterwards, so the sweep is retried (and dead-lettered if it keeps failing)."""
    pages = SitePages(settings.table_name, bucket, dynamodb_client(), s3_client(), cloudfront_client())
    sweep = pages.refresh_every_site(sites, datetime.now(UTC))
    if sweep.published:
        metrics.add_metric(name="PageRefreshed", unit=MetricUnit.Count, value=sweep.published)
    for site_id, error in sweep.failed.items():
        logger.error("Refreshing a site's page failed", failed_site=site_id, error=error)
    if sweep.failed:
        raise PagePublishError(sweep.failure_summary())
    summaries = {site_id: page_summary(refreshed) for site_id, refreshed in sweep.refreshed.items()}
    return {"reason": reason, "sites": len(summaries), "published": sweep.published > 0, "pages": summaries}


def page_summary(refreshed: Refreshed) -> dict[str, Any]:
    return {
        "page_state": refreshed.status.state.value,
        "planned": refreshed.status.planned,
        "stage": refreshed.status.stage.value if refreshed.status.stage else None,
        "updates_shown": len(refreshed.status.updates),
        "failed_checks": list(refreshed.status.failed_checks),
        "published": refreshed.published,  # False: the same page, or a newer one, was already up
    }


def requested(event: dict[str, Any]) -> RefreshRequest | None:
    """A direct or scheduled refresh, or None for the alarm's SNS event. A refusal is logged with
    its reason and re-raised: the invocation fails, is retried, then dead-lettered."""
    try:
        request = refresh_request(event)
    except InvalidRefreshRequest as error:
        logger.error("Refused a refresh request; failing so it is retried, then dead-lettered", error=str(error))
        raise
    if request is not None:
        logger.append_keys(site_id=request.site_id or "every site", reason=request.reason)
    return request


@logger.inject_lambda_context(correlation_id_path="Records[0].Sns.MessageId", clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    request = requested(event)

    try:
        if request is not None:
            result = refresh_as_asked(request)
        else:
            transition, site = alarm_for_site(event, settings.alarm_prefix, settings.table_name, logger)
            result = refresh_for(transition=transition, site=site)
    except PagePublishError:
        logger.exception("Publishing the page failed; failing so it is retried, then dead-lettered")
        raise

    logger.info(
        "Maintenance page refreshed" if result["published"] else "Maintenance page already up to date", **result
    )
    return result


lambda_handler = traced(handler, enabled=settings.tracing)
