"""The local Slack's side of an app's commands: slash commands and message shortcuts sent as Slack
sends them (signatures checked by slack_sdk's own verifier), the spoiled requests tests need, and
the response_url that keeps what the app answers."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier

from detour_cli.local.fake_slack import CHANNEL, FakeSlack
from detour_cli.local.function_url import FunctionUrl
from detour_cli.local.slack_requests import SIGNING_SECRET, signature

SLASH_FIELDS = {
    "token",
    "team_id",
    "team_domain",
    "channel_id",
    "channel_name",
    "user_id",
    "user_name",
    "command",
    "text",
    "api_app_id",
    "is_enterprise_install",
    "response_url",
    "trigger_id",
}


class SlackApp:
    """A stand-in for slack_commands behind its Function URL: verifies with slack_sdk, answers
    through response_url, acknowledges with an empty 200 (or 401 when the signature is wrong)."""

    function_name = "detour-slack-app"

    def __init__(self) -> None:
        self.verifier = SignatureVerifier(SIGNING_SECRET)
        self.seen: list[tuple[bytes, dict[str, str], bool]] = []

    def invoke(self, event: dict[str, Any]) -> Any:
        raw = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
        valid = self.verifier.is_valid_request(raw, event["headers"])
        self.seen.append((raw, event["headers"], valid))
        if not valid:
            return {"statusCode": 401, "body": ""}
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        if "payload" in form:
            form = json.loads(form["payload"])
        answer = json.dumps({"response_type": "ephemeral", "text": f"done: {form.get('text', form.get('type'))}"})
        posted = urllib.request.Request(
            form["response_url"], data=answer.encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(posted, timeout=5) as reply:
            assert json.loads(reply.read()) == {"ok": True}
        return {"statusCode": 200, "body": ""}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def app() -> SlackApp:
    return SlackApp()


@pytest.fixture
def url(app: SlackApp) -> Iterator[str]:
    with FunctionUrl(app) as served:
        yield served.url


def test_a_slash_command_is_signed_as_slack_signs_and_carries_slacks_fields(
    slack: FakeSlack, app: SlackApp, url: str
) -> None:
    answer = slack.slash_command(url, text="update identified DB failover <@U1> & co", user_id="U0OPS0001")
    assert (answer.status, answer.body) == (200, b"")
    assert answer.in_time
    raw, headers, valid = app.seen[-1]
    assert valid
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert headers["user-agent"].startswith("Slackbot 1.0")
    form = dict(urllib.parse.parse_qsl(raw.decode()))
    assert set(form) == SLASH_FIELDS
    assert (form["command"], form["text"], form["user_id"], form["channel_id"]) == (
        "/detour",
        "update identified DB failover &lt;@U1&gt; &amp; co",  # escaped, as Slack escapes what was typed
        "U0OPS0001",
        CHANNEL,
    )
    assert form["response_url"] == answer.response_url
    assert answer.response_url.startswith(f"{slack.url}/commands/T0DETOUR/")
    expected = signature(SIGNING_SECRET, headers["x-slack-request-timestamp"], raw)
    assert headers["x-slack-signature"] == expected
    (response,) = slack.responses_to(answer.response_url)
    assert response.ephemeral
    assert response.text == "done: update identified DB failover &lt;@U1&gt; &amp; co"


def test_the_spoiled_requests_fail_slacks_own_verifier(slack: FakeSlack, app: SlackApp, url: str) -> None:
    request = slack.slash_command_request(url, text="status", user_id="U0OPS0001")
    verifier = SignatureVerifier(SIGNING_SECRET)

    def verdict(spoiled: Any) -> bool:
        return verifier.is_valid_request(spoiled.body, spoiled.headers)

    assert verdict(request)
    assert verdict(request.retried(1))
    assert not verdict(request.with_wrong_secret())
    assert not verdict(request.tampered(user_id="U0EVIL001"))
    assert not verdict(request.with_body(request.body + b"&x=1"))
    assert not verdict(request.stale(301))
    assert verdict(request.stale(200))  # within Slack's five minutes
    assert not verdict(request.without("X-Slack-Signature"))
    assert not verdict(request.without("x-slack-request-timestamp"))
    assert request.tampered(user_id="U0EVIL001").form["user_id"] == "U0EVIL001"

    answers = [spoiled.send() for spoiled in (request.with_wrong_secret(), request.tampered(text="x"), request.stale())]
    assert [a.status for a in answers] == [401, 401, 401]
    assert slack.responses == []
    assert request.send().status == 200  # the original, still fine (replays are the app's to refuse)
    assert request.send().status == 200


def test_a_retry_carries_slacks_retry_headers(slack: FakeSlack, app: SlackApp, url: str) -> None:
    slack.slash_command(url, text="status", user_id="U0OPS0001", retry_num=2, retry_reason="http_error")
    _, headers, valid = app.seen[-1]
    assert valid
    assert (headers["x-slack-retry-num"], headers["x-slack-retry-reason"]) == ("2", "http_error")


def test_a_message_shortcut_sends_a_signed_message_action_payload(slack: FakeSlack, app: SlackApp, url: str) -> None:
    answer = slack.message_shortcut(
        url,
        message_text="Found it: the primary's disk is full. Back in 15 minutes.",
        message_ts="1795227300.000200",
        thread_ts="1795227267.000100",
        user_id="U0OPS0001",
        message_user="U0OPS0002",
    )
    assert answer.status == 200
    raw, _, valid = app.seen[-1]
    assert valid
    (field,) = urllib.parse.parse_qs(raw.decode())
    assert field == "payload"
    payload = json.loads(urllib.parse.parse_qs(raw.decode())["payload"][0])
    assert payload["type"] == "message_action"
    assert payload["callback_id"] == "post_to_page"
    assert (payload["user"]["id"], payload["channel"]["id"], payload["team"]["id"]) == (
        "U0OPS0001",
        CHANNEL,
        "T0DETOUR",
    )
    assert payload["message_ts"] == "1795227300.000200"
    assert payload["message"] == {
        "type": "message",
        "user": "U0OPS0002",
        "text": "Found it: the primary's disk is full. Back in 15 minutes.",
        "ts": "1795227300.000200",
        "thread_ts": "1795227267.000100",
    }
    assert payload["response_url"] == answer.response_url
    assert answer.response_url.startswith(f"{slack.url}/app/T0DETOUR/")
    assert [r.text for r in slack.responses_to(answer.response_url)] == ["done: message_action"]


def post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_response_url_keeps_five_messages_and_refuses_the_rest(slack: FakeSlack) -> None:
    request = slack.slash_command_request("http://127.0.0.1:9/", text="status", user_id="U0OPS0001")
    target = request.response_url
    in_channel = json.dumps({"response_type": "in_channel", "text": "for everyone"}).encode()
    assert post(target, in_channel) == (200, b'{"ok": true}')
    for n in range(4):
        assert post(target, json.dumps({"text": f"#{n}"}).encode())[0] == 200
    assert post(target, json.dumps({"text": "sixth"}).encode()) == (404, b'{"ok": false, "error": "used_url"}')
    kept = slack.responses_to(target)
    assert [r.text for r in kept] == ["for everyone", "#0", "#1", "#2", "#3"]
    assert [r.ephemeral for r in kept] == [False, True, True, True, True]
    assert post(target, b"{oops")[0] == 400
    assert post(target, b"{}") == (400, b"no_text")
    assert post(f"{slack.url}/commands/T0DETOUR/1/unknown", json.dumps({"text": "x"}).encode())[0] == 404
