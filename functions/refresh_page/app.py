"""refresh_page: keep the maintenance page and its status.json in step with the incident.

Three events, one story:
- the health-check alarm (SNS) -> once per transition: record it;
- a refresh asked for directly ({"detour": "refresh", "site_id": ...}: an update was posted);
- the schedule (every 5 minutes: a resolution stops being news after RESOLVED_FOR, with no alarm);
then read the site's newest transition, windows, notice and timeline, render index.html and
status.json, upload them unless the same or a newer page is there, invalidate them at CloudFront
-> metrics.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from detour.incidents.notices import NoticeBoard
from detour.incidents.store import IncidentStore
from detour.incidents.transition import Transition, format_time
from detour.incidents.updates import UpdateLog
from detour.page.publisher import PagePublisher, PagePublishError
from detour.page.refresh import InvalidRefreshRequest, Refreshed, RefreshRequest, refresh, refresh_request
from detour.page.render import PageSettings
from detour.runtime.aws import cloudfront_client, dynamodb_client, s3_client
from detour.runtime.lambda_support import idempotency_config, once_per_transition, traced, transition_from
from detour.runtime.settings import Settings, required

settings = Settings.from_env()
page_settings = PageSettings(
    site_name=required("SITE_NAME"),
    default_message=required("DEFAULT_MESSAGE"),
    contact_url=os.environ.get("CONTACT_URL", "").strip(),
)
bucket, distribution_id = required("PAGE_BUCKET"), required("DISTRIBUTION_ID")
site_id = os.environ.get("SITE_ID", "").strip() or None  # the site whose page this is (the health check id)
logger = Logger()
metrics = Metrics()
idempotency = idempotency_config()


def republish(site: str, transition: Transition | None = None) -> Refreshed:
    refreshed = refresh(
        site,
        transition=transition,
        store=IncidentStore(settings.table_name, dynamodb_client()),
        notices=NoticeBoard(settings.table_name, dynamodb_client()),
        updates=UpdateLog(settings.table_name, dynamodb_client()),
        publisher=PagePublisher(bucket, distribution_id, s3_client(), cloudfront_client()),
        settings=page_settings,
        now=datetime.now(UTC),
    )
    if refreshed.published:
        metrics.add_metric(name="PageRefreshed", unit=MetricUnit.Count, value=1)
    return refreshed


@once_per_transition(settings.table_name, idempotency)
def refresh_for(*, transition: Transition) -> dict[str, Any]:
    refreshed = republish(transition.site_id, transition)
    return {
        "site_id": transition.site_id,
        "transition": transition.new_state.value,
        "changed_at": format_time(transition.changed_at),
        **page_summary(refreshed),
    }


def refresh_as_asked(request: RefreshRequest) -> dict[str, Any]:
    refreshed = republish(request.site_id)
    return {"site_id": request.site_id, "reason": request.reason, **page_summary(refreshed)}


def page_summary(refreshed: Refreshed) -> dict[str, Any]:
    return {
        "page_state": refreshed.status.state.value,
        "planned": refreshed.status.planned,
        "stage": refreshed.status.stage.value if refreshed.status.stage else None,
        "updates_shown": len(refreshed.status.updates),
        "published": refreshed.published,  # False: the same page, or a newer one, was already up
    }


def requested(event: dict[str, Any]) -> RefreshRequest | None:
    """A direct or scheduled refresh, or None for the alarm's SNS event. A refusal is logged with
    its reason and re-raised: the invocation fails, is retried, then dead-lettered."""
    try:
        request = refresh_request(event, own_site=site_id)
    except InvalidRefreshRequest as error:
        logger.error("Refused a refresh request; failing so it is retried, then dead-lettered", error=str(error))
        raise
    if request is not None:
        logger.append_keys(site_id=request.site_id, reason=request.reason)
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
            result = refresh_for(transition=transition_from(event, settings.alarm_names, logger))
    except PagePublishError:
        logger.exception("Publishing the page failed; failing so it is retried, then dead-lettered")
        raise

    logger.info(
        "Maintenance page refreshed" if result["published"] else "Maintenance page already up to date", **result
    )
    return result


lambda_handler = traced(handler, enabled=settings.tracing)
