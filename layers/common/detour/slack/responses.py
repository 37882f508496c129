"""The mechanics of answering Slack from the slash-command function: the Function URL's HTTP
answer, the acknowledgement, the answer through `response_url`, and who may ask. Light on imports:
the acknowledgement loads this module, and must answer within Slack's three seconds."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from detour.runtime.aws import secrets_provider
from detour.slack.commands import Permissions
from detour.slack.message import escape, truncate
from detour.slack.request import SlackAsk
from detour.slack.secret import BotToken, load_slack_credentials
from detour.slack.transport import SlackDeliveryError, retry_handlers

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

    # Retried on 5xx and dropped connections: a second copy of an ephemeral answer is harmless.
    client = WebhookClient(ask.response_url, timeout=RESPONSE_TIMEOUT_S, retry_handlers=retry_handlers())
    try:
        response = client.send_dict(acknowledgement(text))
    except Exception as error:  # the URL is a credential of sorts: name the failure, not the URL
        raise SlackDeliveryError(f"answering through response_url failed: {type(error).__name__}") from None
    if response.status_code >= 300:
        raise SlackDeliveryError(f"answering through response_url failed: HTTP {response.status_code}")


def failure(error: Exception) -> str:
    """What the person hears when the work failed: it is retried, and what may have changed."""
    said = str(error) if isinstance(error, RuntimeError | ValueError) else type(error).__name__
    return (
        f"Detour could not finish that: {escape(truncate(said, 400))}. It is retried in a minute or two; "
        "`/detour status` shows what the page says now."
    )


def default_channel(secret_id: str) -> str:
    """The secret's channel, through the provider's cache: a change is followed within 5 minutes.
    A site without a channel of its own has its threads there."""
    credentials = load_slack_credentials(secret_id, secrets_provider())
    return credentials.channel if isinstance(credentials, BotToken) else ""


def slack_permissions(updaters: str, channels: str, secret_id: str, site_channels: Iterable[str] = ()) -> Permissions:
    """The allow-lists, plus the incident channel of the secret (bot mode) and the registered
    sites' own channels."""
    return Permissions.parse(
        updaters, channels, default_channel=default_channel(secret_id), site_channels=site_channels
    )


def group_members(secret_id: str) -> Callable[[str], frozenset[str]]:
    """Looks a user group's members up with the bot token (scope usergroups:read)."""

    def members(group: str) -> frozenset[str]:
        credentials = load_slack_credentials(secret_id, secrets_provider())
        if not isinstance(credentials, BotToken):
            raise SlackDeliveryError("a user group in SlackUpdaters needs a bot token in the Slack secret")
        from detour.slack.transport import SlackBot  # noqa: PLC0415 - imports slack_sdk: the work only

        return SlackBot(credentials, secret_id).usergroup_members(group)

    return members
