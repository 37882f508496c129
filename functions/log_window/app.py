"""log_window: record every health-check alarm transition and keep the site's failover windows.

SNS (a site's health-check alarm) -> parse the transition, refuse an unregistered site -> record it
once -> windows re-derived -> for an ALARM, which of the site's checks failed -> metrics.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from detour.incidents.notices import NoticeBoard, during_maintenance
from detour.incidents.sites import RegisteredSite
from detour.incidents.store import IncidentStore
from detour.incidents.transition import AlarmState, Transition, format_time
from detour.incidents.windows import FailoverWindow
from detour.runtime.aws import dynamodb_client
from detour.runtime.lambda_support import (
    alarm_for_site,
    idempotency_config,
    once_per_transition,
    recorded_cause,
    traced,
)
from detour.runtime.settings import Settings

settings = Settings.from_env()
logger = Logger()
metrics = Metrics()
idempotency = idempotency_config()


@once_per_transition(settings.table_name, idempotency)
def log_transition(*, transition: Transition, site: RegisteredSite) -> dict[str, Any]:
    store = IncidentStore(settings.table_name, dynamodb_client())
    outcome = store.record(during_maintenance(transition, NoticeBoard(settings.table_name, dynamodb_client())))
    transition, window = outcome.transition, outcome.window

    # Counted from the transition, once per transition (idempotency), whichever function recorded
    # it first: the ALARM that starts a window, and the OK that ends one.
    metrics.add_metric(name="TransitionsLogged", unit=MetricUnit.Count, value=1)
    if transition.new_state is AlarmState.INSUFFICIENT_DATA:
        metrics.add_metric(name="InsufficientDataTransitions", unit=MetricUnit.Count, value=1)
    elif window is not None and transition.new_state is AlarmState.ALARM and window.started_at == transition.changed_at:
        # planned maintenance is counted apart: it is not an outage
        metrics.add_metric(
            name="MaintenanceStarted" if window.planned else "FailoversStarted", unit=MetricUnit.Count, value=1
        )
        logger.warning("Failover window opened", started_at=format_time(window.started_at), planned=window.planned)
    elif window is not None and transition.new_state is AlarmState.OK:
        name = "MaintenanceDurationSeconds" if window.planned else "FailoverDurationSeconds"
        metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=window.duration_s or 0)
        logger.info("Failover window closed", duration_s=window.duration_s, planned=window.planned)

    # The window's record of why it failed over (CAUSE#<its ALARM>), shared with Slack and the page.
    cause = recorded_cause(transition, site, settings.table_name, logger)
    open_window = store.open_window(transition.site_id)
    return {
        "cause": cause.summary() if cause is not None else None,
        "site_id": transition.site_id,
        "state": transition.new_state.value,
        "changed_at": format_time(transition.changed_at),
        "window": _span(window),
        "open_window_since": format_time(open_window.started_at) if open_window else None,
    }


def _span(window: FailoverWindow | None) -> str | None:
    if window is None:
        return None
    return f"{format_time(window.started_at)}/{format_time(window.ended_at) if window.ended_at else 'open'}"


@logger.inject_lambda_context(correlation_id_path="Records[0].Sns.MessageId", clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    transition, site = alarm_for_site(event, settings.alarm_prefix, settings.table_name, logger)

    result = log_transition(transition=transition, site=site)

    logger.info("Transition logged", **result)
    return result


lambda_handler = traced(handler, enabled=settings.tracing)
