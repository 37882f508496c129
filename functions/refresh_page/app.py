"""refresh_page: keep the maintenance page and its status.json in step with the health-check alarm.

SNS (health-check alarm) -> parse the transition -> once per transition: record it, read the newest
transition, windows and notice, render index.html and status.json, upload them unless a newer page
is there, invalidate them at CloudFront -> metrics.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from detour.aws import cloudfront_client, dynamodb_client, s3_client
from detour.incident_store import IncidentStore
from detour.lambda_support import idempotency_config, once_per_transition, traced, transition_from
from detour.maintenance_page import refresh
from detour.page import PageSettings
from detour.page_publisher import PagePublisher, PagePublishError
from detour.settings import Settings, required
from detour.site_notice import NoticeBoard
from detour.transition import Transition, format_time

settings = Settings.from_env()
page_settings = PageSettings(
    site_name=required("SITE_NAME"),
    default_message=required("DEFAULT_MESSAGE"),
    contact_url=os.environ.get("CONTACT_URL", "").strip(),
)
bucket, distribution_id = required("PAGE_BUCKET"), required("DISTRIBUTION_ID")
logger = Logger()
metrics = Metrics()
idempotency = idempotency_config()


@once_per_transition(settings.table_name, idempotency)
def refresh_for(*, transition: Transition) -> dict[str, Any]:
    refreshed = refresh(
        transition.site_id,
        transition=transition,
        store=IncidentStore(settings.table_name, dynamodb_client()),
        notices=NoticeBoard(settings.table_name, dynamodb_client()),
        publisher=PagePublisher(bucket, distribution_id, s3_client(), cloudfront_client()),
        settings=page_settings,
        now=datetime.now(UTC),
    )
    if refreshed.published:
        metrics.add_metric(name="PageRefreshed", unit=MetricUnit.Count, value=1)
    return {
        "site_id": transition.site_id,
        "transition": transition.new_state.value,
        "changed_at": format_time(transition.changed_at),
        "page_state": refreshed.status.state.value,
        "planned": refreshed.status.planned,
        "published": refreshed.published,  # False: a newer page was already up
    }


@logger.inject_lambda_context(correlation_id_path="Records[0].Sns.MessageId")
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    transition = transition_from(event, settings.alarm_names, logger)

    try:
        result = refresh_for(transition=transition)
    except PagePublishError:
        logger.exception("Publishing the page failed; failing so it is retried, then dead-lettered")
        raise

    logger.info("Maintenance page published", **result)
    return result


lambda_handler = traced(handler, enabled=settings.tracing)
