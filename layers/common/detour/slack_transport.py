"""Talking to Slack through slack_sdk: its retry handlers (429 with Retry-After, 5xx, dropped
connections), a timeout, and one error type whose message names the secret and the fix.

slack_sdk's WebClient module takes ~130 ms to import, more than half a bare boto3: it is imported
on the first Slack call, not when the handler module loads.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from detour.slack_message import SlackMessage
from detour.slack_secret import BotToken, IncomingWebhook, SlackCredentials
from detour.slack_thread import SlackThread

TIMEOUT_S = 5
RATE_LIMIT_RETRIES = 2
SERVER_ERROR_RETRIES = 2
# slack_sdk logs request details, and its errors can quote a request's URL or headers: a webhook URL
# and a bot token are credentials. Our own errors say what failed instead.
logging.getLogger("slack_sdk").setLevel(logging.CRITICAL)

FIXES = {
    "invalid_auth": "the bot token is invalid or revoked: put a current xoxb- token into the secret",
    "not_authed": "the bot token is missing: put a current xoxb- token into the secret",
    "token_revoked": "the bot token was revoked: put a current xoxb- token into the secret",
    "account_inactive": "the bot's workspace or token is deactivated: reinstall the app and update the secret",
    "channel_not_found": "the channel id in the secret does not exist or the bot cannot see it: use the channel's "
    "id (C…) and invite the bot",
    "not_in_channel": "the bot is not in the channel: /invite it there",
    "is_archived": "the channel is archived: unarchive it or put another channel id into the secret",
    "missing_scope": "the bot lacks the chat:write scope: add it and reinstall the app",
    "ratelimited": "Slack kept rate-limiting after the retries; the event will be retried",
    "invalid_token": "the webhook URL is invalid or revoked: create a new incoming webhook and update the secret",
    "no_service": "the webhook URL no longer exists: create a new incoming webhook and update the secret",
    "no_active_hooks": "the webhook is disabled: re-enable it or create a new one",
}


class SlackDeliveryError(RuntimeError):
    """Slack refused or could not be reached after the retries."""


class Slack(Protocol):
    threads: bool

    def post(self, message: SlackMessage, thread: SlackThread | None = None) -> SlackThread | None: ...

    def update(self, thread: SlackThread, message: SlackMessage) -> None: ...


def slack_for(credentials: SlackCredentials, secret_id: str) -> Slack:
    if isinstance(credentials, BotToken):
        return SlackBot(credentials, secret_id)
    return SlackWebhook(credentials, secret_id)


class SlackBot:
    threads = True

    def __init__(self, credentials: BotToken, secret_id: str, timeout: float | None = None) -> None:
        from slack_sdk import WebClient  # noqa: PLC0415 - see the module docstring

        self._channel = credentials.channel
        self._secret_id = secret_id
        self._client = WebClient(
            token=credentials.token,
            base_url=credentials.api_url,
            timeout=int(timeout or TIMEOUT_S),
            retry_handlers=_retry_handlers(),
        )

    def post(self, message: SlackMessage, thread: SlackThread | None = None) -> SlackThread:
        response = self._call(
            "chat.postMessage",
            channel=thread.channel if thread else self._channel,
            thread_ts=thread.ts if thread else None,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
        )
        return SlackThread(channel=response["channel"], ts=response["ts"])

    def update(self, thread: SlackThread, message: SlackMessage) -> None:
        self._call("chat.update", channel=thread.channel, ts=thread.ts, text=message.text, blocks=message.blocks)

    def _call(self, method: str, **arguments: Any) -> Any:
        from slack_sdk.errors import SlackApiError  # noqa: PLC0415

        try:
            return self._client.api_call(method, json={k: v for k, v in arguments.items() if v is not None})
        except SlackApiError as error:
            raise SlackDeliveryError(_explain(method, _error_code(error.response), self._secret_id)) from None
        except Exception as error:  # the text may quote the token: say only what kind
            if _timed_out(error):
                raise SlackDeliveryError(
                    f"Slack {method} timed out after the retries; the event will be retried"
                ) from None
            raise SlackDeliveryError(
                f"Slack {method} failed: {type(error).__name__} (details withheld: they may contain the "
                f"credentials in secret {self._secret_id}); the event will be retried"
            ) from None


class SlackWebhook:
    threads = False

    def __init__(self, credentials: IncomingWebhook, secret_id: str, timeout: float | None = None) -> None:
        from slack_sdk.webhook import WebhookClient  # noqa: PLC0415 - see the module docstring

        self._secret_id = secret_id
        self._client = WebhookClient(
            credentials.url, timeout=int(timeout or TIMEOUT_S), retry_handlers=_retry_handlers()
        )

    def post(self, message: SlackMessage, thread: SlackThread | None = None) -> None:
        try:
            response = self._client.send(text=message.text, blocks=message.blocks, unfurl_links=False)
        except Exception as error:  # the URL is a credential: say only what kind
            raise SlackDeliveryError(
                f"Slack webhook failed: {type(error).__name__} (details withheld: they may contain the "
                f"webhook URL in secret {self._secret_id}); the event will be retried"
            ) from None
        if response.status_code != 200:
            code = response.body.strip()[:100] or f"HTTP {response.status_code}"
            raise SlackDeliveryError(_explain("webhook", code, self._secret_id))

    def update(self, thread: SlackThread, message: SlackMessage) -> None:
        raise NotImplementedError("incoming webhooks cannot edit messages")


def _timed_out(error: Exception) -> bool:
    """urllib reports a timeout itself, or wrapped in a URLError."""
    return isinstance(error, TimeoutError) or isinstance(getattr(error, "reason", None), TimeoutError)


def _retry_handlers() -> list[Any]:
    from slack_sdk.http_retry.builtin_handlers import (  # noqa: PLC0415
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
    )

    return [
        ConnectionErrorRetryHandler(),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
    ]


def _error_code(response: Any) -> str:
    """Slack's own error code; for a 5xx, its status (slack_sdk invents an "error" for a non-JSON body)."""
    status = int(response.status_code)
    if status >= 500 or not response.get("error"):
        return f"HTTP {status}"
    return str(response["error"])


def _explain(method: str, code: str, secret_id: str) -> str:
    default = "Slack's servers failed after the retries" if code.startswith("HTTP 5") else "see Slack's documentation"
    fix = FIXES.get(code, default + "; the event will be retried")
    return f"Slack {method} failed with {code!r} (secret {secret_id}): {fix}"
