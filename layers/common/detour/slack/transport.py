"""Talking to Slack through slack_sdk: its retry handlers (429 with Retry-After, 5xx, dropped
connections), a timeout, and one error type whose message names the secret and the fix.

slack_sdk's WebClient module takes ~130 ms to import, more than half a bare boto3: it is imported
on the first Slack call, not when the handler module loads.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

from detour.slack.message import SlackMessage
from detour.slack.secret import BotToken, IncomingWebhook, SlackCredentials
from detour.slack.thread import SlackThread

TIMEOUT_S = 5
RATE_LIMIT_RETRIES = 2
SERVER_ERROR_RETRIES = 2
# Slack's own words for these: "it's possible some aspect of the operation succeeded".
MAYBE_DONE = frozenset({"internal_error", "fatal_error", "request_timeout", "service_unavailable"})
READ_METHODS = frozenset({"conversations.history", "conversations.replies", "usergroups.users.list"})
HISTORY_PAGES = 5  # how far back a lost post is looked for: 5 pages of 200 messages
CLOCK_SKEW = timedelta(minutes=2)
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
    "missing_scope": "the bot lacks a scope: chat:write, and channels:history (groups:history for a private "
    "channel) to check whether a post that may have been lost reached Slack, and usergroups:read when a user "
    "group may post updates; add them and reinstall the app (docs/slack-app-manifest.yaml)",
    "ratelimited": "Slack kept rate-limiting after the retries; the event will be retried",
    "invalid_token": "the webhook URL is invalid or revoked: create a new incoming webhook and update the secret",
    "no_service": "the webhook URL no longer exists: create a new incoming webhook and update the secret",
    "no_active_hooks": "the webhook is disabled: re-enable it or create a new one",
}


class SlackDeliveryError(RuntimeError):
    """Slack refused or could not be reached after the retries.

    `maybe_delivered` is True when Slack may have acted all the same (a timeout, a dropped
    connection or a 5xx after the request was sent): the message must be looked up, not re-sent.
    """

    def __init__(self, message: str, *, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.maybe_delivered = maybe_delivered


class Slack(Protocol):
    threads: bool

    def post(
        self, message: SlackMessage, thread: SlackThread | None = None, metadata: dict[str, Any] | None = None
    ) -> SlackThread | None: ...

    def update(self, thread: SlackThread, message: SlackMessage) -> None: ...

    def find(self, claims: set[str], thread: SlackThread | None, oldest: datetime) -> SlackThread | None:
        """The message posted under one of these claims (in its `metadata`), at the top of the
        channel or in a thread, if it reached Slack."""
        ...


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
        options = {"token": credentials.token, "base_url": credentials.api_url, "timeout": int(timeout or TIMEOUT_S)}
        self._client = WebClient(**options, retry_handlers=retry_handlers())  # type: ignore[arg-type]
        # A post retried after a 5xx or a dropped connection may post twice: posts only retry what
        # Slack refused outright (429); anything else is looked up by its claim before posting again.
        self._poster = WebClient(**options, retry_handlers=retry_handlers(posting=True))  # type: ignore[arg-type]

    def post(
        self, message: SlackMessage, thread: SlackThread | None = None, metadata: dict[str, Any] | None = None
    ) -> SlackThread:
        response = self._call(
            "chat.postMessage",
            client=self._poster,
            channel=thread.channel if thread else self._channel,
            thread_ts=thread.ts if thread else None,
            text=message.text,
            blocks=message.blocks,
            metadata=metadata,
            unfurl_links=False,
        )
        return SlackThread(channel=response["channel"], ts=response["ts"])

    def update(self, thread: SlackThread, message: SlackMessage) -> None:
        self._call("chat.update", channel=thread.channel, ts=thread.ts, text=message.text, blocks=message.blocks)

    def find(self, claims: set[str], thread: SlackThread | None, oldest: datetime) -> SlackThread | None:
        method, arguments = "conversations.history", dict[str, Any](channel=self._channel)
        if thread is not None:
            method, arguments = "conversations.replies", {"channel": thread.channel, "ts": thread.ts}
        arguments |= {"oldest": f"{(oldest - CLOCK_SKEW).timestamp():.6f}", "include_all_metadata": True, "limit": 200}
        for _ in range(HISTORY_PAGES):
            response = self._call(method, **arguments)
            for message in response.get("messages", []):
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("claim") in claims:
                    return SlackThread(channel=str(arguments["channel"]), ts=str(message["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
            arguments["cursor"] = cursor
        return None

    def usergroup_members(self, group: str) -> frozenset[str]:
        """The user ids in a Slack user group (S…): who may post updates when a group is allowed."""
        response = self._call("usergroups.users.list", usergroup=group)
        return frozenset(str(user) for user in response.get("users", []))

    def _call(self, method: str, client: Any = None, **arguments: Any) -> Any:
        from slack_sdk.errors import SlackApiError  # noqa: PLC0415

        given = {k: v for k, v in arguments.items() if v is not None}
        # Slack takes JSON bodies for write methods only: read methods get a query string, as slack_sdk's own do.
        body = {"http_verb": "GET", "params": given} if method in READ_METHODS else {"json": given}
        try:
            return (client or self._client).api_call(method, **body)
        except SlackApiError as error:
            code = _error_code(error.response)
            raise SlackDeliveryError(
                _explain(method, code, self._secret_id), maybe_delivered=code.startswith("HTTP 5") or code in MAYBE_DONE
            ) from None
        except Exception as error:  # the text may quote the token: say only what kind
            if _timed_out(error):
                raise SlackDeliveryError(
                    f"Slack {method} timed out after the retries; the event will be retried", maybe_delivered=True
                ) from None
            raise SlackDeliveryError(
                f"Slack {method} failed: {type(error).__name__} (details withheld: they may contain the "
                f"credentials in secret {self._secret_id}); the event will be retried",
                maybe_delivered=True,
            ) from None


class SlackWebhook:
    threads = False

    def __init__(self, credentials: IncomingWebhook, secret_id: str, timeout: float | None = None) -> None:
        from slack_sdk.webhook import WebhookClient  # noqa: PLC0415 - see the module docstring

        self._secret_id = secret_id
        self._client = WebhookClient(
            credentials.url, timeout=int(timeout or TIMEOUT_S), retry_handlers=retry_handlers()
        )

    def post(
        self, message: SlackMessage, thread: SlackThread | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
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

    def find(self, claims: set[str], thread: SlackThread | None, oldest: datetime) -> SlackThread | None:
        raise NotImplementedError("incoming webhooks cannot read the channel")


def _timed_out(error: Exception) -> bool:
    """urllib reports a timeout itself, or wrapped in a URLError."""
    return isinstance(error, TimeoutError) or isinstance(getattr(error, "reason", None), TimeoutError)


def retry_handlers(posting: bool = False) -> list[Any]:
    from slack_sdk.http_retry.builtin_handlers import (  # noqa: PLC0415
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
    )

    rate_limits = RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)
    if posting:
        return [rate_limits]
    return [ConnectionErrorRetryHandler(), rate_limits, ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES)]


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
