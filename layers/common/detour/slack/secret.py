"""Slack credentials from the stack's Secrets Manager secret: a bot token (threads) or a webhook.

Errors name the secret and the fix, never its value: nothing read from the secret reaches a log,
an exception or a metric.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

BOT_EXAMPLE = '{"bot_token": "xoxb-…", "channel": "C0123456789"}'
WEBHOOK_EXAMPLE = '{"webhook_url": "https://hooks.slack.com/services/…"}'
SLACK_API = "https://slack.com/api/"
SECRET_CACHE_S = 300
# Bot tokens, including rotated ones (xoxe.xoxb-…). Anything else, e.g. with a newline, would end up
# in an HTTP header and, through an exception, in a log.
BOT_TOKEN = re.compile(
    r"^(xoxe\.)?xox[a-z]-[A-Za-z0-9-]+$"
)  # an operator's fix to the secret is picked up within five minutes


SIGNING_SECRET = re.compile(r"^[A-Za-z0-9]{16,128}$")


class SlackSecretError(RuntimeError):
    """The Slack secret is missing, unreadable or not in either accepted shape."""


@dataclass(frozen=True, slots=True)
class BotToken:
    """Bot mode: chat.postMessage then chat.update, so one incident is one thread."""

    token: str = field(repr=False)
    channel: str
    api_url: str = SLACK_API


@dataclass(frozen=True, slots=True)
class IncomingWebhook:
    """Webhook mode: a new message per transition (a webhook cannot edit or thread)."""

    url: str = field(repr=False)


SlackCredentials = BotToken | IncomingWebhook


def load_slack_credentials(secret_id: str, secrets: Any) -> SlackCredentials:
    """Read and validate the secret through a Powertools SecretsProvider (cached)."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError  # noqa: PLC0415

    try:
        raw = secrets.get(secret_id, max_age=SECRET_CACHE_S)
    except GetParameterError as error:
        raise SlackSecretError(
            f"cannot read the Slack secret {secret_id}: {error}. Check that it exists and that this "
            "function's role may call secretsmanager:GetSecretValue on it"
        ) from None
    return parse_slack_secret(secret_id, raw)


def load_signing_secret(secret_id: str, secrets: Any) -> str:
    """The Slack app's signing secret (`signing_secret` in the same secret): the only gate of the
    slash-command Function URL. Never logged; errors name the field, not the value."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError  # noqa: PLC0415

    try:
        raw = secrets.get(secret_id, max_age=SECRET_CACHE_S)
        value = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except GetParameterError as error:
        raise SlackSecretError(f"cannot read the Slack secret {secret_id}: {error}") from None
    except json.JSONDecodeError:
        raise SlackSecretError(f"the Slack secret {secret_id} is not JSON") from None
    signing = value.get("signing_secret") if isinstance(value, dict) else None
    if not isinstance(signing, str) or not SIGNING_SECRET.match(signing):
        raise SlackSecretError(
            f"the Slack secret {secret_id} has no usable signing_secret: copy the app's Signing Secret (Basic "
            "Information, App Credentials) into it as \"signing_secret\" (README, 'The Slack app')"
        )
    return signing


def parse_slack_secret(secret_id: str, raw: Any) -> SlackCredentials:
    fix = f"put {BOT_EXAMPLE} or {WEBHOOK_EXAMPLE} into it (README, 'The Slack secret')"
    try:
        value = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except json.JSONDecodeError:
        raise SlackSecretError(f"the Slack secret {secret_id} is not JSON; {fix}") from None
    if not isinstance(value, dict):
        raise SlackSecretError(f"the Slack secret {secret_id} is not a JSON object; {fix}")

    if value.get("bot_token"):
        token, channel = value["bot_token"], value.get("channel")
        channel = channel.strip() if isinstance(channel, str) else channel
        if not isinstance(token, str) or not BOT_TOKEN.match(token):
            raise SlackSecretError(f"bot_token in the Slack secret {secret_id} is not a Slack token (xoxb-…); {fix}")
        if not isinstance(channel, str) or not channel or " " in channel:
            raise SlackSecretError(f"the Slack secret {secret_id} has a bot_token but no valid channel id; {fix}")
        api_url = value.get("api_url") or SLACK_API
        _require_http_url(secret_id, "api_url", api_url, fix)
        return BotToken(token=token, channel=channel, api_url=api_url.rstrip("/") + "/")
    if value.get("webhook_url"):
        _require_http_url(secret_id, "webhook_url", value["webhook_url"], fix)
        return IncomingWebhook(url=value["webhook_url"])
    raise SlackSecretError(f"the Slack secret {secret_id} has neither bot_token nor webhook_url; {fix}")


def _require_http_url(secret_id: str, key: str, url: Any, fix: str) -> None:
    clean = isinstance(url, str) and not any(c.isspace() or not c.isprintable() for c in url)
    parts = urlsplit(url) if clean else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
        raise SlackSecretError(f"{key} in the Slack secret {secret_id} is not an http(s) URL; {fix}")


def in_channel(credentials: SlackCredentials, channel: str) -> SlackCredentials:
    """The credentials posting to a site's own channel, when it has one. A webhook is bound to the
    channel it was made for, so it keeps it."""
    if channel and isinstance(credentials, BotToken):
        return replace(credentials, channel=channel)
    return credentials
