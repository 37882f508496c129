from __future__ import annotations

import json

import pytest

from detour.slack.secret import SLACK_API, BotToken, IncomingWebhook, SlackSecretError, parse_slack_secret

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:detour-slack-AbCdEf"
TOKEN = "xoxb-9999-8888-SeCrEtToKeN"
HOOK = "https://hooks.slack.com/services/T0/B0/SeCrEtHoOk"


def test_bot_token_mode() -> None:
    credentials = parse_slack_secret(ARN, json.dumps({"bot_token": TOKEN, "channel": " C0123 "}))
    assert credentials == BotToken(token=TOKEN, channel="C0123", api_url=SLACK_API)
    assert TOKEN not in repr(credentials)


def test_bot_token_mode_with_another_api_host() -> None:
    credentials = parse_slack_secret(ARN, {"bot_token": TOKEN, "channel": "C1", "api_url": "https://slack-gov.com/api"})
    assert isinstance(credentials, BotToken)
    assert credentials.api_url == "https://slack-gov.com/api/"


def test_webhook_mode() -> None:
    credentials = parse_slack_secret(ARN, json.dumps({"webhook_url": HOOK}))
    assert credentials == IncomingWebhook(url=HOOK)
    assert HOOK not in repr(credentials)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("{}", "has neither bot_token nor webhook_url"),  # what the stack creates
        ("not json " + TOKEN, "is not JSON"),
        (json.dumps([TOKEN]), "is not a JSON object"),
        (json.dumps({"bot_token": "hunter2-" + TOKEN, "channel": "C1"}), "bot_token in the Slack secret"),
        (json.dumps({"bot_token": TOKEN}), "has a bot_token but no valid channel id"),
        (json.dumps({"bot_token": TOKEN, "channel": "my channel"}), "has a bot_token but no valid channel id"),
        (json.dumps({"bot_token": TOKEN, "channel": "C1", "api_url": "ftp://x/" + TOKEN}), "api_url in the Slack"),
        (json.dumps({"webhook_url": "hooks.slack.com/" + HOOK}), "webhook_url in the Slack secret"),
    ],
)
def test_a_bad_secret_names_the_secret_and_the_fix_but_never_its_value(value: str, error: str) -> None:
    with pytest.raises(SlackSecretError) as raised:
        parse_slack_secret(ARN, value)
    message = str(raised.value)
    assert error in message
    assert ARN in message
    assert '{"bot_token": "xoxb-…", "channel": "C0123456789"}' in message
    assert "SeCrEt" not in message
