"""error_rate: every minute, each registered site's 5xx rate, as a metric its alarm can watch.

The schedule (EventBridge, every minute) -> the registered sites with the 5xx-rate signal on -> one
GetMetricData for their ALB's RequestCount and HTTPCode_ELB_5XX_Count (per balancer) and the target
group's HTTPCode_Target_5XX_Count (Sum, 60 s) over the last finished minutes (three metrics a site) ->
for each of the last five minutes whose data has arrived or that has settled, its rate, or, in the
HOLD_MINUTES (10) after a failing run, that run's lowest rate if higher, published as
Detour/TargetErrorRate, Site=<site stack> (ADR 0002). One site's failure holds up no other; it fails the
invocation afterwards, so the run is retried and then dead-lettered, and the log names the site. A site
whose balancer had no requests in the minutes read gets a WARNING (a wrong dimension value reads as no
data), not a failure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from detour.incidents.sites import SiteRegistry
from detour.runtime.aws import cloudwatch_client, dynamodb_client
from detour.runtime.settings import Settings
from detour.runtime.tracing import traced
from detour.signals.error_rate import ErrorRateFailed, Publication, publish_error_rates

settings = Settings.from_env()
logger = Logger()


def scheduled_time(event: Any) -> datetime:
    """The minute the schedule fired for (a retry recomputes the same minutes); now for any other event."""
    if isinstance(event, dict) and event.get("source") == "aws.events" and isinstance(event.get("time"), str):
        try:
            return datetime.fromisoformat(event["time"].replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            logger.warning("The scheduled event's time is unreadable; using the current time", time=event["time"])
    return datetime.now(UTC)


def _minute(start: datetime) -> str:
    return start.strftime("%Y-%m-%dT%H:%MZ")


def log_outcome(outcome: Publication) -> None:
    for site, minutes in outcome.published.items():
        logger.info(
            "Published the site's target 5xx rate",
            site=site,
            minutes={
                _minute(m.start): {
                    "published": m.value,
                    "rate": m.rate,
                    "requests": m.requests,
                    "5xx": m.errors,
                    "target_5xx": m.target_5xx,
                    "elb_5xx": m.elb_5xx,
                    "held_by": _minute(m.held_by) if m.held_by else None,  # the failing run's last minute
                }
                for m in minutes
            },
            waiting_for_data=[_minute(start) for start in outcome.waiting.get(site, [])],
        )
    for site, problem in outcome.no_requests.items():
        logger.warning(
            "The site's load balancer had no requests in the minutes read: check its dimension value",
            site=site,
            domain=problem.domain,
            target_group=problem.target_group,
            load_balancer=problem.load_balancer,
            check=problem.check,
        )
    for site, reason in outcome.failed.items():
        logger.error("The site's target 5xx rate was not published", failed_site=site, error=reason)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    sites = SiteRegistry(settings.table_name, dynamodb_client()).all()
    outcome = publish_error_rates(sites, scheduled_time(event), cloudwatch_client())
    log_outcome(outcome)
    if outcome.failed:
        raise ErrorRateFailed(outcome.failure_summary())
    return {
        "sites": len(outcome.published),
        "without_signal": outcome.not_watched,
        "rates": {site: [m.value for m in minutes] for site, minutes in outcome.published.items()},
    }


lambda_handler = traced(handler, enabled=settings.tracing)
