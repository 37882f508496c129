"""notify_slack: tell the team in Slack, one thread per incident, updated until it is resolved.

SNS (a site's health-check alarm) -> parse the transition, refuse an unregistered site -> once per
transition: read the Slack secret, record the transition (and, for an ALARM, which of the site's
checks failed), bring the incident threads it touches up to date, in the site's own channel if it
has one -> metrics.
An operator's update (invoked directly with its key) -> its registered site -> read it -> reply it
once in its incident's thread. Failures raise: retried, then DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from detour.incidents.notices import NoticeBoard, during_maintenance
from detour.incidents.sites import RegisteredSite, SiteRegistry
from detour.incidents.store import IncidentStore
from detour.incidents.transition import Transition
from detour.incidents.updates import UpdateLog
from detour.runtime import direct_events
from detour.runtime.aws import dynamodb_client, secrets_provider
from detour.runtime.lambda_support import (
    alarm_for_site,
    idempotency_config,
    once_per_transition,
    recorded_cause,
    traced,
)
from detour.runtime.settings import Settings, required
from detour.signals.causes import CauseLog, OutageCauses
from detour.slack.announcer import announce
from detour.slack.message import Site
from detour.slack.secret import in_channel, load_slack_credentials
from detour.slack.threads import ThreadStore
from detour.slack.transport import Slack, slack_for
from detour.slack.update_replies import reply_update

settings = Settings.from_env()
secret_id = required("SLACK_SECRET_ARN")
logger = Logger()
metrics = Metrics()
idempotency = idempotency_config()


@once_per_transition(settings.table_name, idempotency)
def notify(*, transition: Transition, site: RegisteredSite, request_id: str) -> dict[str, Any]:
    slack = slack_in(site)
    # Recording is idempotent and shared with log_window: whichever function runs first, the
    # incident's window exists before it is announced.
    store = IncidentStore(settings.table_name, dynamodb_client())
    notices = NoticeBoard(settings.table_name, dynamodb_client())
    outcome = store.record(during_maintenance(transition, notices))
    recorded = outcome.transition

    # Why it failed over, read once for every function: the root message says it from the start.
    cause = recorded_cause(transition, site, settings.table_name, logger)
    threads = ThreadStore(settings.table_name, dynamodb_client())
    action = announce(
        recorded,
        outcome.window,
        slack=slack,
        store=store,
        threads=threads,
        site=Site.registered(site),
        request_id=request_id,
        causes=OutageCauses(CauseLog(settings.table_name, dynamodb_client()), site, transition, cause),
    )

    metrics.add_metric(name="NotificationsSent", unit=MetricUnit.Count, value=1)
    return {"site_id": recorded.site_id, "state": recorded.new_state.value, "action": action}


def reply(event: dict[str, Any], request_id: str) -> dict[str, Any]:
    site_id, key = direct_events.field(event, "site_id"), direct_events.field(event, "update")
    logger.append_keys(site_id=site_id, update=key)
    site = SiteRegistry(settings.table_name, dynamodb_client()).require(site_id)
    store = IncidentStore(settings.table_name, dynamodb_client())
    update = UpdateLog(settings.table_name, dynamodb_client()).get(site_id, key)
    if update is None:
        raise direct_events.InvalidDirectEvent(f"update {key} of site {site_id} is not in the incidents table")
    threads = ThreadStore(settings.table_name, dynamodb_client())
    action = reply_update(
        update, slack=slack_in(site), store=store, threads=threads, site=Site.registered(site), request_id=request_id
    )
    metrics.add_metric(name="UpdatesReplied", unit=MetricUnit.Count, value=1)
    return {"site_id": site_id, "update": key, "action": action}


def slack_in(site: RegisteredSite) -> Slack:
    """Slack, posting to the site's own channel if it has one, else to the secret's."""
    credentials = load_slack_credentials(secret_id, secrets_provider())
    return slack_for(in_channel(credentials, site.slack_channel), secret_id)


@logger.inject_lambda_context(correlation_id_path="Records[0].Sns.MessageId", clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if direct_events.kind_of(event) == direct_events.UPDATE_POSTED:
        result = reply(event, context.aws_request_id)
        logger.info("Update replied in Slack", **result)
        return result
    idempotency.register_lambda_context(context)
    transition, site = alarm_for_site(event, settings.alarm_prefix, settings.table_name, logger)

    try:
        result = notify(transition=transition, site=site, request_id=context.aws_request_id)
    except Exception as error:  # Slack, the secret or the store: counted, logged, and retried
        metrics.add_metric(name="NotificationFailures", unit=MetricUnit.Count, value=1)
        logger.error("Slack notification failed; failing so it is retried, then dead-lettered", error=str(error))
        raise

    logger.info("Slack notified", **result)
    return result


lambda_handler = traced(handler, enabled=settings.tracing)
