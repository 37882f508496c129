"""Requests as Slack sends them to an app's Request URL: slash commands and message shortcuts,
signed as Slack signs them, and the ways a test spoils one (wrong secret, tampered body, stale
timestamp, missing headers) or repeats one (a replay, Slack's own retry).

Slack's signature: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<raw body>", keyed
with the app's signing secret>` and `X-Slack-Request-Timestamp: <unix seconds>`; the body is
`application/x-www-form-urlencoded` (a slash command's fields, or `payload=<JSON>` for
interactivity). Used through FakeSlack.slash_command / .message_shortcut.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

SIGNING_SECRET = "d3t0urL0calS1gn1ngS3cr3t0000abcd"  # noqa: S105 - the fake's own, accepted nowhere else
VERIFICATION_TOKEN = "detourLocalVerification"  # noqa: S105 - Slack's deprecated `token` field, still sent
TEAM_ID = "T0DETOUR"
TEAM_DOMAIN = "detour-local"
APP_ID = "A0DETOUR01"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
SLACK_DEADLINE_S = 3.0  # Slack shows the user a timeout when the app takes longer to answer


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's request signature: v0=HMAC-SHA256(secret, "v0:<timestamp>:<body>") in hex."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SlackAnswer:
    """What the app answered Slack."""

    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float
    response_url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def in_time(self) -> bool:
        """Answered within Slack's 3 seconds (later, Slack shows the user an error)."""
        return self.seconds <= SLACK_DEADLINE_S


@dataclass(frozen=True)
class SlackRequest:
    """One request to the app's Request URL, ready to send; each spoiler returns a changed copy."""

    url: str
    body: bytes
    headers: dict[str, str]
    response_url: str
    secret: str = field(repr=False)

    @classmethod
    def signed(
        cls, url: str, form: dict[str, str], *, secret: str, response_url: str, timestamp: int | None = None
    ) -> SlackRequest:
        body = urlencode(form).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": USER_AGENT,
            "Accept": "application/json,*/*",
            "Accept-Encoding": "gzip,deflate",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature(secret, stamp, body),
        }
        return cls(url, body, headers, response_url, secret)

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def timestamp(self) -> str:
        return self.headers["X-Slack-Request-Timestamp"]

    # -- spoiled and repeated copies ----------------------------------------------------------------

    def resigned(self, secret: str | None = None, *, timestamp: int | None = None) -> SlackRequest:
        """The same body signed again: with another secret, or at another time."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        key = self.secret if secret is None else secret
        headers = self.headers | {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature(key, stamp, self.body),
        }
        return replace(self, headers=headers, secret=key)

    def with_wrong_secret(self) -> SlackRequest:
        """Signed correctly, but with a secret that is not the app's (a forger's)."""
        return self.resigned(secrets.token_hex(16))

    def tampered(self, **fields: str) -> SlackRequest:
        """These form fields changed after signing (the signature is the original's)."""
        return replace(self, body=urlencode(self.form | fields).encode())

    def with_body(self, body: bytes) -> SlackRequest:
        """Another raw body under the original signature."""
        return replace(self, body=body)

    def stale(self, seconds: int = 301) -> SlackRequest:
        """Correctly signed, `seconds` ago (Slack's verifiers refuse more than 5 minutes)."""
        return self.resigned(timestamp=int(time.time()) - seconds)

    def without(self, *names: str) -> SlackRequest:
        """Without these headers (matched case-insensitively)."""
        dropped = {name.lower() for name in names}
        return replace(self, headers={k: v for k, v in self.headers.items() if k.lower() not in dropped})

    def retried(self, number: int = 1, reason: str = "http_timeout") -> SlackRequest:
        """Slack's own retry of this request: the same body, signed again, with its retry headers."""
        again = self.resigned()
        return replace(
            again, headers=again.headers | {"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": reason}
        )

    # -- sending ------------------------------------------------------------------------------------

    def send(self, timeout_s: float = 30.0) -> SlackAnswer:
        """POST it; the app's answer, whatever its status."""
        request = urllib.request.Request(self.url, data=self.body, headers=self.headers, method="POST")  # noqa: S310
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # noqa: S310 - the app's URL
                status, headers, body = answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, dict(error.headers), error.read()
        return SlackAnswer(status, headers, body, time.monotonic() - started, self.response_url)


def slack_escaped(text: str) -> str:
    """Slack's escaping of message text: `&`, `<` and `>` only."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slash_command_form(
    *,
    text: str,
    user_id: str,
    channel_id: str,
    command: str,
    response_url: str,
    user_name: str | None = None,
    channel_name: str | None = None,
) -> dict[str, str]:
    """A slash command's fields, in the order Slack sends them. Slack escapes `&`, `<` and `>` in what
    was typed, as in any message text (the app's `should_escape: false` keeps @names as typed)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name or "incidents",
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": slack_escaped(text),
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": _trigger_id(),
    }


def message_shortcut_form(
    *,
    callback_id: str,
    message_text: str,
    message_ts: str,
    thread_ts: str | None,
    message_user: str,
    user_id: str,
    channel_id: str,
    response_url: str,
    user_name: str | None = None,
    channel_name: str | None = None,
) -> dict[str, str]:
    """A message shortcut: Slack's interactivity request, `payload=<JSON>` of type message_action."""
    name = user_name or user_id.lower()
    message: dict[str, Any] = {"type": "message", "user": message_user, "text": message_text, "ts": message_ts}
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    payload = {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": f"{time.time():.6f}",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": name, "team_id": TEAM_ID, "name": name},
        "channel": {"id": channel_id, "name": channel_name or "incidents"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": _trigger_id(),
        "response_url": response_url,
        "message_ts": message_ts,
        "message": message,
    }
    return {"payload": json.dumps(payload, separators=(",", ":"))}


def _trigger_id() -> str:
    return f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"
