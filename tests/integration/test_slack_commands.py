"""`/detour` end to end on loopback: the local Slack signs a request to slack_commands served as a
Function URL; the queued work, refresh_page and notify_slack run behind a loopback Lambda Invoke
API; DynamoDB, S3, CloudFront and Secrets Manager are moto's server."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from detour.incidents.updates import Source, Stage, Update, UpdateLog
from detour.runtime.direct_events import InvalidDirectEvent
from detour_cli.local.fake_slack import CHANNEL
from detour_cli.local.slack_requests import SIGNING_SECRET, signature
from tests.support.events import SITE_ID, transition_event
from tests.support.slack_desk import ALICE, MALLORY, SlackDesk, health_check, slack_desk

HOSTILE = "<!channel> <@U0BOB> <script>alert(1)</script> & <https://evil.example|click> " + "x" * 120


@pytest.fixture
def desk(aws: str) -> Iterator[SlackDesk]:
    with slack_desk(aws) as built:
        yield built


def outage(desk: SlackDesk, minutes_ago: float = 3) -> None:
    """An ALARM, delivered to the page and Slack: the incident is open, its thread posted."""
    event = transition_event("ALARM", "OK", datetime.now(UTC) - timedelta(minutes=minutes_ago))
    desk.invoke("notify_slack", event)
    desk.invoke("refresh_page", event)


def test_an_update_from_slack_reaches_the_page_the_thread_and_the_person(desk: SlackDesk) -> None:
    outage(desk)
    answer = desk.slack.slash_command(desk.command_url, text="update identified Found the cause", user_id=ALICE)
    assert answer.status == 200
    assert answer.in_time  # Slack's 3 seconds
    assert answer.json()["response_type"] == "ephemeral"
    desk.lambdas.wait_idle()

    (update,) = [u for u in desk.updates() if u.source is Source.SLACK]
    assert (update.stage, update.message, update.author) == (Stage.IDENTIFIED, "Found the cause", ALICE)
    status = desk.status()
    assert status["stage"] == "identified"
    assert status["updates"][0]["message"] == "Found the cause"  # type: ignore[index]
    assert "author" not in json.dumps(status)
    assert ALICE not in desk.page()

    (root,) = desk.slack.roots()
    replies = [m.text for m in desk.slack.replies(root)]
    assert any(f"by <@{ALICE}> (Identified): Found the cause" in text for text in replies)
    (said,) = desk.slack.responses_to(answer.response_url)
    assert said.ephemeral
    assert "Posted to the www.example.com maintenance page as *Identified*" in said.text
    assert "the incident open since" in said.text


def test_slacks_own_retry_is_harmless_and_a_replay_is_refused(desk: SlackDesk) -> None:
    outage(desk)
    request = desk.slack.slash_command_request(desk.command_url, text="update Rolling back", user_id=ALICE)
    assert request.send().status == 200
    assert request.retried(1).send().status == 200  # same body, signed again: the same update
    assert request.send().status == 401  # the very same request again: a replay
    desk.lambdas.wait_idle()
    assert [u.message for u in desk.updates() if u.source is Source.SLACK] == ["Rolling back"]
    (root,) = desk.slack.roots()
    assert sum("Rolling back" in m.text for m in desk.slack.replies(root)) == 1
    assert "replayed" in desk.log("slack_commands")


@pytest.mark.parametrize("spoil", ["with_wrong_secret", "stale", "tampered", "missing_signature", "missing_timestamp"])
def test_a_request_slack_did_not_sign_changes_nothing(desk: SlackDesk, spoil: str) -> None:
    request = desk.slack.slash_command_request(desk.command_url, text="update Pwned", user_id=ALICE)
    spoiled = {
        "with_wrong_secret": request.with_wrong_secret,
        "stale": lambda: request.stale(301),
        "tampered": lambda: request.tampered(user_id=ALICE, text="update Pwned too"),
        "missing_signature": lambda: request.without("X-Slack-Signature"),
        "missing_timestamp": lambda: request.without("X-Slack-Request-Timestamp"),
    }[spoil]()
    answer = spoiled.send()
    assert answer.status == 401
    assert answer.body == b""  # no reason given to a forger; it is in the log
    desk.lambdas.wait_idle()
    assert desk.updates() == []
    assert desk.lambdas.invocations == []
    assert "Refused a request to the Slack command URL" in desk.log("slack_commands")


def test_someone_not_on_the_list_is_refused_and_logged(desk: SlackDesk) -> None:
    outage(desk)
    answer = desk.slack.slash_command(desk.command_url, text="update We are hacked", user_id=MALLORY)
    assert answer.status == 200
    assert "not on Detour's list" in answer.json()["text"]
    desk.lambdas.wait_idle()
    assert [u for u in desk.updates() if u.source is Source.SLACK] == []
    refusal = [json.loads(line) for line in desk.log("slack_commands").splitlines() if "Refused a Slack" in line]
    assert refusal
    assert refusal[0]["user_id"] == MALLORY


def test_another_channel_is_refused(desk: SlackDesk) -> None:
    answer = desk.slack.slash_command(desk.command_url, text="status", user_id=ALICE, channel_id="C0RANDOM")
    assert "only in its incident channel" in answer.json()["text"]
    desk.lambdas.wait_idle()
    assert desk.lambdas.invocations == []


def test_status_is_open_to_the_channel(desk: SlackDesk) -> None:
    outage(desk, minutes_ago=12)
    desk.slack.slash_command(desk.command_url, text="update monitoring Fix deployed", user_id=ALICE)
    answer = desk.slack.slash_command(desk.command_url, text="status", user_id=MALLORY)
    desk.lambdas.wait_idle()
    (said,) = desk.slack.responses_to(answer.response_url)
    assert "*www.example.com* is on the maintenance page (an outage) since" in said.text
    assert "Stage: *Monitoring*" in said.text
    assert "Fix deployed" in said.text


def test_a_hostile_message_ends_as_text_everywhere(desk: SlackDesk) -> None:
    outage(desk)
    answer = desk.slack.slash_command(desk.command_url, text=f"update {HOSTILE}", user_id=ALICE)
    desk.lambdas.wait_idle()
    page = desk.page()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    (root,) = desk.slack.roots()
    (reply,) = [m.text for m in desk.slack.replies(root) if "Posted to" in m.text]
    assert "<!channel>" not in reply
    assert "<@U0BOB>" not in reply
    assert "<https://evil" not in reply
    assert "&lt;!channel&gt; &lt;@U0BOB&gt;" in reply
    (said,) = desk.slack.responses_to(answer.response_url)
    assert "<!channel>" not in said.text
    assert "&lt;!channel&gt;" in said.text


def test_ten_thousand_characters_are_refused_at_once(desk: SlackDesk) -> None:
    rtl = "\u0627" * 10_000  # right-to-left letters, 2 bytes each
    answer = desk.slack.slash_command(desk.command_url, text=f"update {rtl}", user_id=ALICE)
    assert answer.status == 200
    assert "has 10000 characters; the page takes at most 500" in answer.json()["text"]
    desk.lambdas.wait_idle()
    assert desk.lambdas.invocations == []


def test_a_message_from_the_thread_is_posted_by_the_shortcut(desk: SlackDesk) -> None:
    outage(desk)
    (root,) = desk.slack.roots()
    answer = desk.slack.message_shortcut(
        desk.command_url,
        message_text="Root cause: an expired certificate. Renewed; back in 10 minutes.",
        message_ts=root.ts,
        thread_ts=root.ts,
        user_id=ALICE,
    )
    assert answer.status == 200
    desk.lambdas.wait_idle()
    (update,) = [u for u in desk.updates() if u.source is Source.SLACK]
    assert update.stage is Stage.INVESTIGATING  # the incident's stage: the alarm's entry
    assert desk.status()["updates"][0]["message"].startswith("Root cause")  # type: ignore[index]


def test_an_update_before_the_alarm_is_kept_and_shown(desk: SlackDesk) -> None:
    answer = desk.slack.slash_command(desk.command_url, text="update DNS provider outage, on it", user_id=ALICE)
    desk.lambdas.wait_idle()
    (said,) = desk.slack.responses_to(answer.response_url)
    assert "no incident open yet" in said.text
    assert desk.status()["updates"][0]["message"] == "DNS provider outage, on it"  # type: ignore[index]
    (message,) = desk.slack.roots()  # no thread yet: a message of its own in the channel
    assert "DNS provider outage, on it" in message.text
    outage(desk, minutes_ago=0)  # the alarm arrives: the update is part of its incident
    assert any(u["message"] == "DNS provider outage, on it" for u in desk.status()["updates"])  # type: ignore[attr-defined, index]


def test_a_secret_without_a_signing_secret_fails_loudly_and_never_logs_the_token(desk: SlackDesk) -> None:
    client = boto3.client("secretsmanager")
    value = json.loads(client.get_secret_value(SecretId=desk.world.secret_arn)["SecretString"])
    token = value["bot_token"]
    client.put_secret_value(SecretId=desk.world.secret_arn, SecretString=json.dumps(value | {"signing_secret": ""}))
    answer = desk.slack.slash_command(desk.command_url, text="status", user_id=ALICE)
    assert answer.status == 502  # the invocation failed: CloudWatch shows it, the log says why
    assert desk.url.served[-1].error is not None
    assert "no usable signing_secret" in desk.url.served[-1].error
    assert token not in desk.log("slack_commands")


def test_the_logger_forgets_the_previous_request(desk: SlackDesk) -> None:
    desk.slack.slash_command(desk.command_url, text="status", user_id=MALLORY)
    desk.lambdas.wait_idle()
    desk.slack.slash_command_request(desk.command_url, text="status", user_id=ALICE).with_wrong_secret().send()
    refused = [json.loads(line) for line in desk.log("slack_commands").splitlines() if "Refused a request" in line]
    assert refused
    assert "slack_user" not in refused[-1]


def test_the_channel_of_the_secret_is_where_commands_are_taken(desk: SlackDesk) -> None:
    answer = desk.slack.slash_command(desk.command_url, text="help", user_id=MALLORY, channel_id=CHANNEL)
    assert "/detour [site] update [stage] <message>" in answer.json()["text"]


EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_the_slack_command_event_file_is_a_real_request_refused_for_its_age(desk: SlackDesk) -> None:
    """events/slack_command.json: what a Function URL delivers for `/detour update`. Its signature is
    long stale, so `sam local invoke` shows the gate; signed now, the same body is a valid command."""
    event = json.loads((EVENTS / "slack_command.json").read_text())
    assert desk.invoke("slack_commands", event)["statusCode"] == 401
    assert "timestamp is" in desk.log("slack_commands")

    body = base64.b64decode(event["body"])
    now = str(int(time.time()))
    event["headers"] |= {"x-slack-request-timestamp": now, "x-slack-signature": signature(SIGNING_SECRET, now, body)}
    answer = desk.invoke("slack_commands", event)
    assert answer["statusCode"] == 200
    assert "Posting your update" in json.loads(answer["body"])["text"]


def test_the_update_posted_event_file_replies_its_update(desk: SlackDesk) -> None:
    event = json.loads((EVENTS / "update_posted.json").read_text())
    posted_at = datetime(2026, 11, 21, 2, 17, tzinfo=UTC)
    update = Update(
        SITE_ID, Stage.IDENTIFIED, "Found it", posted_at, Source.SLACK, ALICE, event["update"].rsplit("#", 1)[1]
    )
    assert update.key == event["update"]
    UpdateLog(desk.world.table, boto3.client("dynamodb")).post(update)
    assert desk.invoke("notify_slack", event)["action"] == "posted the update in the channel (no incident yet)"
    assert "Found it" in desk.slack.roots()[0].text


def test_planned_maintenance_on_and_off_from_slack(aws: str) -> None:
    route53 = boto3.client("route53")
    check_id = health_check()
    with slack_desk(aws, site_id=check_id) as desk:
        on = desk.slack.slash_command(
            desk.command_url, text="maintenance on Upgrading the database until 2h", user_id=ALICE
        )
        assert "Turning planned maintenance on" in on.json()["text"]
        desk.lambdas.wait_idle()
        assert route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]["Inverted"]
        (said,) = desk.slack.responses_to(on.response_url)
        assert "Planned maintenance of www.example.com is on, expected back" in said.text
        log = UpdateLog(desk.world.table, boto3.client("dynamodb"))
        assert [(u.stage, u.message) for u in log.timeline(check_id).updates] == [
            (Stage.IN_PROGRESS, "Upgrading the database")
        ]

        off = desk.slack.slash_command(desk.command_url, text="maintenance off", user_id=ALICE)
        desk.lambdas.wait_idle()
        assert not route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]["Inverted"]
        (said,) = desk.slack.responses_to(off.response_url)
        assert "is off" in said.text
        assert log.timeline(check_id).updates[0].stage is Stage.COMPLETED

        refused = desk.slack.slash_command(desk.command_url, text="maintenance on Oops", user_id=MALLORY)
        assert "not on Detour's list" in refused.json()["text"]
        desk.lambdas.wait_idle()
        assert not route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]["Inverted"]


def test_a_failed_work_tells_the_person_and_is_retried(desk: SlackDesk) -> None:
    outage(desk)
    # The work cannot ask refresh_page to follow (a function that is not there): Lambda refuses.
    desk.functions["slack_commands"].variables["REFRESH_PAGE_FUNCTION"] = "detour-gone"
    answer = desk.slack.slash_command(desk.command_url, text="update Found it", user_id=ALICE)
    desk.lambdas.wait_idle()
    said = [r.text for r in desk.slack.responses_to(answer.response_url)]
    assert len(said) == 3  # the first attempt and Lambda's two retries
    assert all(text.startswith("Detour could not finish that: ResourceNotFoundException") for text in said)
    assert [i.event["ask"]["text"] for i in desk.lambdas.dead_letters] == ["update Found it"]
    # stored once, whatever the retries: the sweep or the next post brings the page up to date
    assert [u.message for u in desk.updates() if u.source is Source.SLACK] == ["Found it"]


@pytest.mark.parametrize(
    ("event", "says"),
    [
        ({"detour": "refresh", "site_id": SITE_ID, "reason": "update"}, "takes 'slack-command' events"),
        ({"detour": "slack-command"}, "without its request"),
        ({"detour": "slack-command", "ask": {"kind": "command", "user_id": ALICE}}, "without channel_id"),
    ],
)
def test_a_direct_event_it_cannot_do_fails_and_is_dead_lettered(
    desk: SlackDesk, event: dict[str, Any], says: str
) -> None:
    with pytest.raises(InvalidDirectEvent, match=says):
        desk.invoke("slack_commands", event)
    assert "Rejected a direct event" in desk.log("slack_commands")
    assert desk.slack.responses == []
