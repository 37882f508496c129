"""slack_commands: `/detour` and the "Post to the maintenance page" message shortcut, from Slack,
for every site the registry holds.

Function URL (Slack's request) -> verify Slack's signature, refuse a replay -> read the registered
sites -> parse, authorize, choose the site -> queue the work, with the chosen site's id, on this
same function -> acknowledge, within Slack's three seconds.
The queued work (this function, invoked asynchronously) -> the site it carries, still registered ->
authorize against user groups -> do it for that site (post the update, show the status, planned
maintenance on or off) -> answer through response_url.
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
from detour.incidents.sites import RegisteredSite, SiteChoiceError, SiteRegistry, UnregisteredSite
from detour.runtime import direct_events
from detour.runtime.aws import dynamodb_client, lambda_client, secrets_provider
from detour.runtime.settings import Settings, required
from detour.runtime.tracing import traced
from detour.slack.commands import (
    USAGE,
    Command,
    CommandError,
    Permissions,
    Verb,
    Verdict,
    parse_command,
    parse_queued,
    site_for,
    site_names,
)
from detour.slack.message import escape
from detour.slack.replays import ReplayGuard
from detour.slack.request import RequestRefused, SignedRequest, SlackAsk, parse_ask
from detour.slack.responses import (
    acknowledgement,
    answer_to,
    default_channel,
    failure,
    group_members,
    http_answer,
    slack_permissions,
)
from detour.slack.secret import load_signing_secret
from detour.slack.transport import SlackDeliveryError

settings = Settings.from_env()
secret_id = required("SLACK_SECRET_ARN")
updaters, channels = os.environ.get("SLACK_UPDATERS", ""), os.environ.get("SLACK_COMMAND_CHANNELS", "")
targets = UpdateTargets(refresh_page=required("REFRESH_PAGE_FUNCTION"), notify_slack=required("NOTIFY_SLACK_FUNCTION"))
logger = Logger()
metrics = Metrics()
SITE = "site_id"  # the queued work's site: a registered site's id, or EVERY_SITE
EVERY_SITE = "*"  # `status` among several sites, none named: every site's, read-only


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if direct_events.kind_of(event) is None:
        return acknowledge(event, context.function_name)
    try:
        ask = SlackAsk.from_json(direct_events.slack_ask(event))
        site_id = direct_events.field(event, SITE)
        command = parse_queued(ask)  # parsed once already: a CommandError here is a bug
    except direct_events.InvalidDirectEvent as error:
        logger.error("Rejected a direct event; failing so it is retried, then dead-lettered", error=str(error))
        raise
    sites = _registry().all()
    try:
        chosen = _queued_site(site_id, sites, command)
    except UnregisteredSite as gone:  # removed since the acknowledgement: nothing to retry, so say so
        logger.warning("The site of a queued Slack command is no longer registered", error=str(gone))
        metrics.add_metric(name="SlackCommandsRefused", unit=MetricUnit.Count, value=1)
        _tell(ask, f"Nothing changed: {escape(str(gone))}.")
        return {"verb": command.verb.value, "refused": True}
    except direct_events.InvalidDirectEvent as error:
        logger.error("Rejected a direct event; failing so it is retried, then dead-lettered", error=str(error))
        raise
    return work(ask, command, chosen, sites)


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
    return _take(ask, own_name)


def _take(ask: SlackAsk, own_name: str) -> dict[str, Any]:
    """Parse, authorize, choose the site, queue the work: or answer at once why not."""
    sites = _registry().all()
    try:
        command = parse_command(ask, site_names(sites))
    except CommandError as error:
        return _say(ask, str(error))
    verdict, refusal = _permissions(sites).verdict(ask, command)
    if verdict is Verdict.REFUSED:
        _log_refusal(ask, command)
        return _say(ask, refusal)
    if command.verb is Verb.HELP:
        return _say(ask, USAGE)
    try:  # decided here, once: the work does it for this site, whatever the registry says by then
        site = site_for(ask, command, sites, default_channel(secret_id))
    except SiteChoiceError as unclear:
        logger.info("Slack command for no one site: answered with the sites", verb=command.verb.value)
        return _say(ask, str(unclear))

    site_id = site.site_id if site else EVERY_SITE
    direct_events.invoke_async(lambda_client(), own_name, direct_events.slack_command(ask.to_json(), site_id))
    logger.info("Slack command acknowledged", verb=command.verb.value, site_id=site_id)
    return _say(ask, _working_on(command, site), quietly=True)


def work(ask: SlackAsk, command: Command, site: RegisteredSite | None, sites: list[RegisteredSite]) -> dict[str, Any]:
    """Do it for `site` (None: every site's status), the site the acknowledgement chose."""
    logger.append_keys(
        slack_user=ask.user_id, slack_channel=ask.channel_id, request_kind=ask.kind, site_id=_site_id(site)
    )
    from detour.slack.desk import desk_for, overview  # noqa: PLC0415 - the work's modules: not the acknowledgement's

    try:
        verdict, refusal = _permissions(sites).verdict_with_groups(ask, command, group_members(secret_id))
        if verdict is Verdict.REFUSED:
            _log_refusal(ask, command)
            _tell(ask, refusal)
            return {"verb": command.verb.value, "refused": True}
        now = datetime.now(UTC)
        if site is None:
            answer = overview([desk_for(settings.table_name, each, targets) for each in sites], now)
        else:
            answer = desk_for(settings.table_name, site, targets).answer(ask, command, now)
    except Exception as error:  # the person hears it now; the work is retried, then dead-lettered
        metrics.add_metric(name="SlackCommandsFailed", unit=MetricUnit.Count, value=1)
        logger.exception("Slack command failed; failing so it is retried", verb=command.verb.value)
        _tell(ask, failure(error))
        raise
    _tell(ask, answer)
    metrics.add_metric(name="SlackCommandsDone", unit=MetricUnit.Count, value=1)
    logger.info("Slack command done", verb=command.verb.value)
    return {"verb": command.verb.value, "site_id": _site_id(site), "done": True}


def _queued_site(site_id: str, sites: list[RegisteredSite], command: Command) -> RegisteredSite | None:
    """The site the queued work carries, still registered. Never chosen again here: the request is
    done for the site its acknowledgement chose, or fails (retried, then dead-lettered)."""
    if site_id == EVERY_SITE:
        if command.verb is not Verb.STATUS:
            raise direct_events.InvalidDirectEvent(f"only `status` is done for every site, not {command.verb.value!r}")
        return None
    for site in sites:
        if site.site_id == site_id:
            return site
    raise UnregisteredSite(
        f"site {site_id!r} is not registered with this Detour deployment (no site stack created it, or it was "
        "removed); nothing was done for it"
    )


def _site_id(site: RegisteredSite | None) -> str:
    return site.site_id if site else EVERY_SITE


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


def _registry() -> SiteRegistry:
    return SiteRegistry(settings.table_name, dynamodb_client())


def _permissions(sites: list[RegisteredSite]) -> Permissions:
    return slack_permissions(updaters, channels, secret_id, site_channels=(site.slack_channel for site in sites))


def _working_on(command: Command, site: RegisteredSite | None) -> str:
    where = f" for {escape(site.domain)}" if site else ""
    return {
        "status": f"Looking it up{where or ' for every site'}…",
        "update": f"Posting your update to the {escape(site.domain) + ' ' if site else ''}maintenance page and the "
        "incident thread…",
        "maintenance on": f"Turning planned maintenance on{where}…",
        "maintenance off": f"Turning planned maintenance off{where}…",
    }.get(command.verb.value, "On it…")


lambda_handler = traced(handler, enabled=settings.tracing)
