"""The mechanics of answering Slack from the slash-command function: the Function URL's HTTP
answer, the acknowledgement, the answer through `response_url`, who may ask, and the desk that
does the work, built from the function's clients."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from detour import planned_maintenance
from detour.aws import dynamodb_client, lambda_client, route53_client, secrets_provider
from detour.incident_commands import Permissions
from detour.incident_desk import Desk
from detour.incident_store import IncidentStore
from detour.incident_updates import UpdateLog
from detour.site_notice import NoticeBoard
from detour.slack_request import SlackAsk
from detour.slack_secret import BotToken, load_slack_credentials
from detour.slack_transport import SlackBot, SlackDeliveryError
from detour.update_posting import UpdateTargets

RESPONSE_TIMEOUT_S = 5


def http_answer(status: int, body: dict[str, Any] | str) -> dict[str, Any]:
    """A Function URL response."""
    if isinstance(body, str):
        return {"statusCode": status, "headers": {"content-type": "text/plain; charset=utf-8"}, "body": body}
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def acknowledgement(text: str) -> dict[str, Any]:
    """Slack shows the HTTP answer to a command only to the person who asked."""
    return {"response_type": "ephemeral", "text": text}


def answer_to(ask: SlackAsk, text: str) -> None:
    """The answer to the person who asked, through the request's response_url (valid 30 minutes)."""
    from slack_sdk.webhook import WebhookClient  # noqa: PLC0415 - the work only, never the acknowledgement

    try:
        response = WebhookClient(ask.response_url, timeout=RESPONSE_TIMEOUT_S).send_dict(acknowledgement(text))
    except Exception as error:  # the URL is a credential of sorts: name the failure, not the URL
        raise SlackDeliveryError(f"answering through response_url failed: {type(error).__name__}") from None
    if response.status_code >= 300:
        raise SlackDeliveryError(f"answering through response_url failed: HTTP {response.status_code}")


@functools.cache
def _default_channel(secret_id: str) -> str:
    credentials = load_slack_credentials(secret_id, secrets_provider())
    return credentials.channel if isinstance(credentials, BotToken) else ""


def slack_permissions(updaters: str, channels: str, secret_id: str) -> Permissions:
    """The allow-lists, plus the incident channel of the secret (bot mode)."""
    return Permissions.parse(updaters, channels, default_channel=_default_channel(secret_id))


def group_members(secret_id: str) -> Callable[[str], frozenset[str]]:
    """Looks a user group's members up with the bot token (scope usergroups:read)."""

    def members(group: str) -> frozenset[str]:
        credentials = load_slack_credentials(secret_id, secrets_provider())
        if not isinstance(credentials, BotToken):
            raise SlackDeliveryError("a user group in SlackUpdaters needs a bot token in the Slack secret")
        return SlackBot(credentials, secret_id).usergroup_members(group)

    return members


def incident_desk(table_name: str, site_id: str, domain: str, targets: UpdateTargets) -> Desk:
    dynamodb = dynamodb_client()
    return Desk(
        site_id=site_id,
        domain=domain,
        store=IncidentStore(table_name, dynamodb),
        log=UpdateLog(table_name, dynamodb),
        notices=NoticeBoard(table_name, dynamodb),
        lambda_client=lambda_client(),
        targets=targets,
        maintenance=planned_maintenance.Maintenance(
            site_id=site_id,
            table_name=table_name,
            targets=targets,
            dynamodb=dynamodb,
            route53=route53_client(),
            lambda_client=lambda_client(),
        ),
    )
