"""A request from Slack to the slash-command Function URL: its raw body, its signature, its fields.

The Function URL is public (`AuthType: NONE`: Slack cannot sign with SigV4), so Slack's signature
is the only gate. It is checked exactly as Slack specifies
(https://api.slack.com/authentication/verifying-requests-from-slack): HMAC-SHA256 of
`v0:<X-Slack-Request-Timestamp>:<raw body>` with the app's signing secret, compared in constant
time, refused when the timestamp is more than five minutes from now. The raw body is the bytes
Slack sent: Function URLs deliver a form body base64-encoded, and it is decoded, never re-encoded.

Written by hand, with the standard library only: the acknowledgement must reach Slack within three
seconds, and slack_sdk's own verifier imports its whole Web client (about 90 ms of cold start).
The tests check this code against slack_sdk's `SignatureVerifier`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

MAX_AGE_S = 300
MAX_BODY_BYTES = 64 * 1024  # a slash command is well under 4 KB, a message shortcut well under 40 KB
VERSION = "v0"
SHORTCUT_CALLBACK = "post_to_page"  # the message shortcut's callback id in the app manifest


class RequestRefused(Exception):
    """Not a request Detour acts on. `status` is the HTTP answer; the reason is logged, never sent."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What arrived at the Function URL, before anything in the body is trusted."""

    body: bytes
    timestamp: str
    signature: str
    retry_num: str  # Slack's own retry of a request it sent: X-Slack-Retry-Num

    @classmethod
    def from_function_url(cls, event: Mapping[str, Any]) -> SignedRequest:
        """From a Function URL event (payload format 2.0: lower-case header names)."""
        method = event.get("requestContext", {}).get("http", {}).get("method", "")
        if method != "POST":
            raise RequestRefused(f"method {method or 'unknown'} (Slack POSTs)", status=405)
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        body = event.get("body") or ""
        if len(body) > MAX_BODY_BYTES * 4 // 3 + 4:
            raise RequestRefused(f"body of {len(body)} characters is larger than any Slack request", status=413)
        if event.get("isBase64Encoded"):
            try:
                raw = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise RequestRefused("body is marked base64 but is not", status=400) from None
        else:
            raw = body.encode()
        missing = [h for h in ("x-slack-request-timestamp", "x-slack-signature") if not headers.get(h)]
        if missing:
            raise RequestRefused(f"missing header {', '.join(missing)}")
        return cls(
            body=raw,
            timestamp=headers["x-slack-request-timestamp"],
            signature=headers["x-slack-signature"],
            retry_num=headers.get("x-slack-retry-num", ""),
        )

    def verify(self, signing_secret: str, now: float) -> None:
        """Raise RequestRefused unless Slack signed exactly this body within the last five minutes."""
        try:
            sent = int(self.timestamp)
        except ValueError:
            raise RequestRefused(f"timestamp {self.timestamp[:20]!r} is not a number") from None
        if abs(now - sent) > MAX_AGE_S:
            raise RequestRefused(f"timestamp is {int(now - sent)} s from now (more than {MAX_AGE_S} s)")
        expected = signature_of(signing_secret, self.timestamp, self.body)
        if not hmac.compare_digest(expected.encode(), self.signature.encode()):
            raise RequestRefused("signature does not match (wrong signing secret, or the body was changed)")


def signature_of(signing_secret: str, timestamp: str, body: bytes) -> str:
    base = f"{VERSION}:{timestamp}:".encode() + body
    return f"{VERSION}=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class SlackAsk:
    """A verified request, as Detour needs it: who asked, where, and what."""

    kind: str  # "command" (/detour ...) or "shortcut" (a message's "Post to the maintenance page")
    user_id: str
    channel_id: str
    text: str  # the command's text, or the message's text for a shortcut
    trigger_id: str  # unique per request, the same in Slack's retries: the update's id
    response_url: str
    team_id: str = ""
    message_ts: str = ""  # shortcut: the message's ts

    def to_json(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> SlackAsk:
        return cls(**{name: str(value.get(name, "")) for name in cls.__slots__})


def plain_text(text: str) -> str:
    """What a person reads in Slack's message markup, as plain text for the page: Slack's escapes
    undone, links as their text and address, mentions as names, never as user ids."""
    return _ESCAPED.sub(lambda m: _ENTITIES[m.group(0)], _MARKUP.sub(_readable, text))


def _readable(match: re.Match[str]) -> str:
    target, _, label = match.group(1).partition("|")
    if target.startswith(("@", "!subteam^")):  # a person or a user group: only its name, if Slack gave one
        return "@" + label.lstrip("@") if label else "@someone"
    if target.startswith("#"):
        return "#" + label if label else "#a-channel"
    if target.startswith("!"):  # <!here>, <!channel>, <!date^…|fallback>
        return label or "@" + target[1:].split("^")[0]
    return f"{label} ({target})" if label and label != target else target  # a link


_MARKUP = re.compile(r"<([^<>\n]{1,500})>")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
_ESCAPED = re.compile("&lt;|&gt;|&amp;")


def parse_ask(body: bytes) -> SlackAsk:
    """A slash command's form, or an interactivity `payload` (message shortcut)."""
    form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
    if "payload" in form:
        return _shortcut(form["payload"])
    needed = ("user_id", "channel_id", "trigger_id", "response_url")
    missing = [name for name in needed if not form.get(name)]
    if missing or not form.get("command"):
        raise RequestRefused(f"a slash command without {', '.join(missing) or 'command'}", status=400)
    return SlackAsk(
        kind="command",
        user_id=form["user_id"],
        channel_id=form["channel_id"],
        text=form.get("text", ""),
        trigger_id=form["trigger_id"],
        response_url=form["response_url"],
        team_id=form.get("team_id", ""),
    )


def _shortcut(payload: str) -> SlackAsk:
    try:
        value = json.loads(payload)
        if value.get("type") != "message_action" or value.get("callback_id") != SHORTCUT_CALLBACK:
            kind = f"{str(value.get('type'))[:40]!r}/{str(value.get('callback_id'))[:40]!r}"
            raise RequestRefused(f"interactivity {kind} is not Detour's shortcut", status=400)
        return SlackAsk(
            kind="shortcut",
            user_id=str(value["user"]["id"]),
            channel_id=str(value["channel"]["id"]),
            text=str(value.get("message", {}).get("text", "")),
            trigger_id=str(value["trigger_id"]),
            response_url=str(value["response_url"]),
            team_id=str(value.get("team", {}).get("id", "")),
            message_ts=str(value.get("message", {}).get("ts", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise RequestRefused(f"a message shortcut payload that is not Slack's: {error!r:.80}", status=400) from None
