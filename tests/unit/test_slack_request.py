"""Slack's request signature, checked exactly as Slack specifies, against slack_sdk's own verifier."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from detour.slack.request import (
    MAX_AGE_S,
    RequestRefused,
    SignedRequest,
    parse_ask,
    signature_of,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_764_400_000
FORM = {
    "command": "/detour",
    "text": "update identified Found the cause",
    "user_id": "U0ALICE",
    "channel_id": "C0INCIDENT",
    "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    "response_url": "https://hooks.slack.com/commands/T0/1/abc",
    "team_id": "T0DETOUR",
}


def event(
    body: bytes, *, timestamp: int = NOW, secret: str = SECRET, b64: bool = True, **headers: str
) -> dict[str, Any]:
    signed = {
        "x-slack-request-timestamp": str(timestamp),
        "x-slack-signature": signature_of(secret, str(timestamp), body),
        **headers,
    }
    return {
        "version": "2.0",
        "headers": {k: v for k, v in signed.items() if v},
        "body": base64.b64encode(body).decode() if b64 else body.decode(),
        "isBase64Encoded": b64,
        "requestContext": {"http": {"method": "POST"}},
    }


def command_body(**fields: str) -> bytes:
    return urlencode(FORM | fields).encode()


def verified(evt: dict[str, Any], now: float = NOW) -> SignedRequest:
    request = SignedRequest.from_function_url(evt)
    request.verify(SECRET, now)
    return request


def test_our_signature_is_slacks() -> None:
    body = command_body()
    verifier = SignatureVerifier(SECRET, clock=type("Clock", (), {"now": staticmethod(lambda: NOW)})())
    assert signature_of(SECRET, str(NOW), body) == verifier.generate_signature(timestamp=str(NOW), body=body)
    headers = event(body)["headers"]
    assert verifier.is_valid_request(
        body,
        {
            "X-Slack-Request-Timestamp": headers["x-slack-request-timestamp"],
            "X-Slack-Signature": headers["x-slack-signature"],
        },
    )


@pytest.mark.parametrize("b64", [True, False], ids=["base64 body (Function URL, form)", "text body"])
def test_a_valid_request_is_accepted_and_parsed(b64: bool) -> None:
    request = verified(event(command_body(), b64=b64))
    ask = parse_ask(request.body)
    assert (ask.kind, ask.user_id, ask.channel_id, ask.text) == (
        "command",
        "U0ALICE",
        "C0INCIDENT",
        "update identified Found the cause",
    )


def test_the_raw_body_is_verified_as_received_not_reencoded() -> None:
    # Slack encodes spaces as '+', and ordering is Slack's: re-encoding the parsed form would differ.
    body = (
        b"text=update+%E2%9C%85+done&user_id=U0ALICE&command=%2Fdetour&channel_id=C0INCIDENT"
        b"&trigger_id=1.2.3&response_url=https%3A%2F%2Fhooks.slack.com%2Fx"
    )
    ask = parse_ask(verified(event(body)).body)
    assert ask.text == "update ✅ done"


def test_a_wrong_secret_is_refused() -> None:
    with pytest.raises(RequestRefused, match="signature does not match"):
        verified(event(command_body(), secret="0" * 32))


def test_a_tampered_body_is_refused() -> None:
    evt = event(command_body())
    evt["body"] = base64.b64encode(command_body(user_id="U0MALLORY")).decode()
    with pytest.raises(RequestRefused, match="signature does not match"):
        verified(evt)


@pytest.mark.parametrize("missing", ["x-slack-request-timestamp", "x-slack-signature"])
def test_missing_headers_are_refused(missing: str) -> None:
    evt = event(command_body())
    del evt["headers"][missing]
    with pytest.raises(RequestRefused, match=f"missing header {missing}"):
        SignedRequest.from_function_url(evt)


@pytest.mark.parametrize("age", [MAX_AGE_S + 1, -(MAX_AGE_S + 1)], ids=["301 s old", "301 s ahead"])
def test_a_timestamp_more_than_five_minutes_from_now_is_refused(age: int) -> None:
    with pytest.raises(RequestRefused, match="more than 300 s"):
        verified(event(command_body(), timestamp=NOW - age))


def test_a_timestamp_exactly_five_minutes_old_is_still_accepted() -> None:
    verified(event(command_body(), timestamp=NOW - MAX_AGE_S))


def test_only_post_is_served() -> None:
    evt = event(command_body()) | {"requestContext": {"http": {"method": "GET"}}}
    with pytest.raises(RequestRefused) as refused:
        SignedRequest.from_function_url(evt)
    assert refused.value.status == 405


def test_a_body_marked_base64_that_is_not_is_refused() -> None:
    evt = event(command_body()) | {"body": "not base64!"}
    with pytest.raises(RequestRefused, match="not"):
        SignedRequest.from_function_url(evt)


def test_a_huge_body_is_refused_before_any_work() -> None:
    evt = event(b"x" * 200_000)
    with pytest.raises(RequestRefused) as refused:
        SignedRequest.from_function_url(evt)
    assert refused.value.status == 413


def test_a_message_shortcut_is_parsed() -> None:
    payload = {
        "type": "message_action",
        "callback_id": "post_to_page",
        "trigger_id": "1.2.abc",
        "response_url": "https://hooks.slack.com/app/x",
        "user": {"id": "U0ALICE"},
        "channel": {"id": "C0INCIDENT"},
        "team": {"id": "T0"},
        "message": {"text": "Rolled back; watching error rates.", "ts": "1764400000.000100"},
    }
    ask = parse_ask(urlencode({"payload": json.dumps(payload)}).encode())
    assert (ask.kind, ask.text, ask.message_ts) == (
        "shortcut",
        "Rolled back; watching error rates.",
        "1764400000.000100",
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions"},
        {"type": "message_action", "callback_id": "someone_elses"},
        {"type": "message_action", "callback_id": "post_to_page"},  # no user, channel, ...
        "not json",
    ],
    ids=["other interactivity", "another shortcut", "incomplete", "not json"],
)
def test_other_interactivity_is_refused(payload: Any) -> None:
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    with pytest.raises(RequestRefused) as refused:
        parse_ask(urlencode({"payload": raw}).encode())
    assert refused.value.status == 400


def test_a_command_without_its_fields_is_refused() -> None:
    with pytest.raises(RequestRefused, match="user_id"):
        parse_ask(urlencode({k: v for k, v in FORM.items() if k != "user_id"}).encode())
