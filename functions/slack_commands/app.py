"""slack_commands: `/detour` and the "Post to the maintenance page" message shortcut, from Slack.

Function URL (Slack's request) -> verify Slack's signature, refuse a replay -> parse, authorize ->
queue the work on this same function -> acknowledge, within Slack's three seconds.
The queued work (this function, invoked asynchronously) -> authorize against user groups -> do it
(post the update, show the status, planned maintenance on or off) -> answer through response_url.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from detour.incidents.posting import UpdateTargets
from detour.runtime import direct_events
from detour.runtime.aws import dynamodb_client, lambda_client, secrets_provider
from detour.runtime.settings import Settings, required
from detour.runtime.tracing import traced
from detour.slack.commands import USAGE, Command, CommandError, Permissions, Verb, Verdict, parse_command
from detour.slack.replays import ReplayGuard
from detour.slack.request import RequestRefused, SignedRequest, SlackAsk, parse_ask
from detour.slack.responses import (
    acknowledgement,
    answer_to,
    failure,
    group_members,
    http_answer,
    slack_permissions,
)
from detour.slack.secret import load_signing_secret
from detour.slack.transport import SlackDeliveryError

settings = Settings.from_env()
secret_id = required("SLACK_SECRET_ARN")
site_id, domain = required("SITE_ID"), required("SITE_DOMAIN")
updaters, channels = os.environ.get("SLACK_UPDATERS", ""), os.environ.get("SLACK_COMMAND_CHANNELS", "")
targets = UpdateTargets(refresh_page=required("REFRESH_PAGE_FUNCTION"), notify_slack=required("NOTIFY_SLACK_FUNCTION"))
logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if direct_events.kind_of(event) is None:
        return acknowledge(event, context.function_name)
    try:
        ask = SlackAsk.from_json(direct_events.slack_ask(event))
    except direct_events.InvalidDirectEvent as error:
        logger.error("Rejected a direct event; failing so it is retried, then dead-lettered", error=str(error))
        raise
    return work(ask)


def acknowledge(event: dict[str, Any], own_name: str) -> dict[str, Any]:
    try:
        request = SignedRequest.from_function_url(event)
        request.verify(load_signing_secret(secret_id, secrets_provider()), time.time())
        if not ReplayGuard(settings.table_name, dynamodb_client()).first_time(request.signature, time.time()):
            if request.retry_num:  # Slack sent it again: the first is being handled
                return http_answer(200, "")
            raise RequestRefused("replayed: a request with this signature was already received")
        ask = parse_ask(request.body)
    except RequestRefused as refused:
        logger.warning("Refused a request to the Slack command URL", reason=str(refused), status=refused.status)
        metrics.add_metric(name="SlackRequestsRefused", unit=MetricUnit.Count, value=1)
        return http_answer(refused.status, "")  # the reason stays in the log: no help for a forger

    logger.append_keys(slack_user=ask.user_id, slack_channel=ask.channel_id, request_kind=ask.kind)
    try:
        command = parse_command(ask)
    except CommandError as error:
        return _say(ask, str(error))
    verdict, refusal = _permissions().verdict(ask, command)
    if verdict is Verdict.REFUSED:
        _log_refusal(ask, command)
        return _say(ask, refusal)
    if command.verb is Verb.HELP:
        return _say(ask, USAGE)

    direct_events.invoke_async(lambda_client(), own_name, direct_events.slack_command(ask.to_json()))
    logger.info("Slack command acknowledged", verb=command.verb.value)
    return _say(ask, _working_on(command), quietly=True)


def work(ask: SlackAsk) -> dict[str, Any]:
    logger.append_keys(slack_user=ask.user_id, slack_channel=ask.channel_id, request_kind=ask.kind)
    command = parse_command(ask)  # parsed once already: a CommandError here is a bug, and raises
    from detour.slack.desk import desk_for  # noqa: PLC0415 - the work's modules: not the acknowledgement's

    try:
        verdict, refusal = _permissions().verdict_with_groups(ask, command, group_members(secret_id))
        if verdict is Verdict.REFUSED:
            _log_refusal(ask, command)
            _tell(ask, refusal)
            return {"verb": command.verb.value, "refused": True}
        answer = desk_for(settings.table_name, site_id, domain, targets).answer(ask, command, datetime.now(UTC))
    except Exception as error:  # the person hears it now; the work is retried, then dead-lettered
        metrics.add_metric(name="SlackCommandsFailed", unit=MetricUnit.Count, value=1)
        logger.exception("Slack command failed; failing so it is retried", verb=command.verb.value)
        _tell(ask, failure(error))
        raise
    _tell(ask, answer)
    metrics.add_metric(name="SlackCommandsDone", unit=MetricUnit.Count, value=1)
    logger.info("Slack command done", verb=command.verb.value)
    return {"verb": command.verb.value, "done": True}


def _say(ask: SlackAsk, text: str, *, quietly: bool = False) -> dict[str, Any]:
    """The acknowledgement's answer. Slack shows a command's HTTP answer to the person, but not a
    shortcut's: that goes through response_url (unless it only says the work is under way)."""
    if ask.kind == "command":
        return http_answer(200, acknowledgement(text))
    if not quietly:
        _tell(ask, text)
    return http_answer(200, "")


def _tell(ask: SlackAsk, text: str) -> None:
    """Answer through response_url. Lost answers are logged, not retried: the work is done, and
    doing it again to say so would only tell the person a different story."""
    try:
        answer_to(ask, text)
    except SlackDeliveryError as error:
        metrics.add_metric(name="SlackAnswersLost", unit=MetricUnit.Count, value=1)
        logger.warning("The answer to the person could not be delivered", error=str(error))


def _log_refusal(ask: SlackAsk, command: Command) -> None:
    logger.warning("Refused a Slack command", user_id=ask.user_id, channel_id=ask.channel_id, verb=command.verb.value)
    metrics.add_metric(name="SlackCommandsRefused", unit=MetricUnit.Count, value=1)


def _permissions() -> Permissions:
    return slack_permissions(updaters, channels, secret_id)


def _working_on(command: Command) -> str:
    return {
        "status": "Looking it up…",
        "update": "Posting your update to the maintenance page and the incident thread…",
        "maintenance on": "Turning planned maintenance on…",
        "maintenance off": "Turning planned maintenance off…",
    }.get(command.verb.value, "On it…")


lambda_handler = traced(handler, enabled=settings.tracing)
