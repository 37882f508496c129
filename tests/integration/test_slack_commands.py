"""`/detour` end to end on loopback: the local Slack signs a request to slack_commands served as a
Function URL; the queued work, refresh_page and notify_slack run behind a loopback Lambda Invoke
API; DynamoDB, S3, CloudFront and Secrets Manager are moto's server."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from detour.incidents.sites import RegisteredSite
from detour.incidents.store import IncidentStore
from detour.incidents.updates import Source, Stage, Update, UpdateLog
from detour.runtime.direct_events import InvalidDirectEvent
from detour_cli.local.fake_slack import CHANNEL
from detour_cli.local.slack_requests import SIGNING_SECRET, signature
from tests.support.events import SITE_ID, transition_event
from tests.support.slack_desk import (
    ALICE,
    MALLORY,
    SlackDesk,
    health_check,
    inverted,
    registered_site,
    slack_desk,
)
from tests.support.transitions import transition

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
    """events/slack_command.json: what a Function URL delivers for `/detour www.example.com update`. Its signature is
    long stale, so `sam local invoke` shows the gate; signed now, the same body is a valid command."""
    event = json.loads((EVENTS / "slack_command.json").read_text())
    assert desk.invoke("slack_commands", event)["statusCode"] == 401
    assert "timestamp is" in desk.log("slack_commands")

    body = base64.b64decode(event["body"])
    now = str(int(time.time()))
    event["headers"] |= {"x-slack-request-timestamp": now, "x-slack-signature": signature(SIGNING_SECRET, now, body)}
    answer = desk.invoke("slack_commands", event)
    assert answer["statusCode"] == 200
    assert "Posting your update to the www.example.com maintenance page" in json.loads(answer["body"])["text"]


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


ASK = {
    "kind": "command",
    "user_id": ALICE,
    "channel_id": CHANNEL,
    "text": "update Found it",
    "trigger_id": "1.2.3",
    "response_url": "https://hooks.slack.com/commands/T0/1/x",
}


@pytest.mark.parametrize(
    ("event", "says"),
    [
        ({"detour": "refresh", "site_id": SITE_ID, "reason": "update"}, "takes 'slack-command' events"),
        ({"detour": "slack-command"}, "without its request"),
        ({"detour": "slack-command", "ask": {"kind": "command", "user_id": ALICE}}, "without channel_id"),
        ({"detour": "slack-command", "ask": ASK}, "needs a 'site_id' string"),  # which site: never guessed again
        ({"detour": "slack-command", "ask": ASK, "site_id": "*"}, "only `status` is done for every site"),
    ],
)
def test_a_direct_event_it_cannot_do_fails_and_is_dead_lettered(
    desk: SlackDesk, event: dict[str, Any], says: str
) -> None:
    with pytest.raises(InvalidDirectEvent, match=says):
        desk.invoke("slack_commands", event)
    assert "Rejected a direct event" in desk.log("slack_commands")
    assert desk.slack.responses == []


# ------------------------------------------------------------------------------------ many sites

SHOP_CHANNEL, API_CHANNEL = "C0SHOP001", "C0API0001"  # each site's own channel; CHANNEL (the secret's) is neither's


@pytest.fixture
def two(aws: str) -> Iterator[tuple[SlackDesk, RegisteredSite, RegisteredSite]]:
    """Two registered sites, each with its own health check and channel."""
    shop = registered_site(health_check(), "shop.example.com", slack_channel=SHOP_CHANNEL)
    api = registered_site(health_check(), "api.example.com", slack_channel=API_CHANNEL)
    with slack_desk(aws, sites=[shop, api]) as built:
        yield built, shop, api


def untouched(desk: SlackDesk, site: RegisteredSite) -> None:
    """Nothing of `site` changed: no update in its timeline, no notice, its check not inverted."""
    assert desk.updates(site.site_id) == []
    assert desk.notice(site.site_id) is None
    assert not inverted(site.site_id)


def queued(desk: SlackDesk) -> list[dict[str, Any]]:
    return [i.event for i in desk.lambdas.invocations if i.event.get("detour") == "slack-command"]


def test_a_site_word_picks_the_site(two: tuple[SlackDesk, RegisteredSite, RegisteredSite]) -> None:
    desk, shop, api = two
    text = "shop.example.com update identified Payment is back"
    answer = desk.slack.slash_command(desk.command_url, text=text, user_id=ALICE)  # from the secret's channel
    assert "Posting your update to the shop.example.com maintenance page" in answer.json()["text"]
    desk.lambdas.wait_idle()
    (update,) = desk.updates(shop.site_id)
    assert (update.stage, update.message, update.author) == (Stage.IDENTIFIED, "Payment is back", ALICE)
    assert [event["site_id"] for event in queued(desk)] == [shop.site_id]
    (said,) = desk.slack.responses_to(answer.response_url)
    assert "Posted to the shop.example.com maintenance page as *Identified*" in said.text
    untouched(desk, api)


@pytest.mark.parametrize("word", ["SHOP.example.com.", "detour-site-shop", "{id}"])
def test_a_site_is_named_by_its_domain_stack_or_id(
    two: tuple[SlackDesk, RegisteredSite, RegisteredSite], word: str
) -> None:
    desk, shop, api = two
    word = word.format(id=shop.site_id)
    desk.slack.slash_command(desk.command_url, text=f"{word} update Rolling back", user_id=ALICE)
    desk.lambdas.wait_idle()
    assert [u.message for u in desk.updates(shop.site_id)] == ["Rolling back"]
    untouched(desk, api)


def test_the_channel_picks_the_site(two: tuple[SlackDesk, RegisteredSite, RegisteredSite]) -> None:
    desk, shop, api = two
    answer = desk.slack.slash_command(
        desk.command_url, text="update Rolling back", user_id=ALICE, channel_id=API_CHANNEL
    )
    assert "api.example.com" in answer.json()["text"]
    desk.lambdas.wait_idle()
    assert [u.message for u in desk.updates(api.site_id)] == ["Rolling back"]
    untouched(desk, shop)
    # and a site word beats the channel: the shop's update, asked in the api's channel
    desk.slack.slash_command(
        desk.command_url, text="shop.example.com update Shop too", user_id=ALICE, channel_id=API_CHANNEL
    )
    desk.lambdas.wait_idle()
    assert [u.message for u in desk.updates(shop.site_id)] == ["Shop too"]
    assert [u.message for u in desk.updates(api.site_id)] == ["Rolling back"]


@pytest.mark.parametrize("text", ["update Something broke", "maintenance on Upgrading until 2h", "maintenance off"])
def test_ambiguity_answers_with_the_sites_and_changes_nothing(
    two: tuple[SlackDesk, RegisteredSite, RegisteredSite], text: str
) -> None:
    desk, shop, api = two
    answer = desk.slack.slash_command(desk.command_url, text=text, user_id=ALICE)  # the secret's channel: no site's
    said = answer.json()
    assert said["response_type"] == "ephemeral"
    assert "Detour protects 2 sites" in said["text"]
    assert "Nothing changed" in said["text"]
    assert f"`shop.example.com` ({shop.site_id})" in said["text"]
    assert f"`api.example.com` ({api.site_id})" in said["text"]
    assert "/detour api.example.com " in said["text"]  # how to name one
    desk.lambdas.wait_idle()
    assert desk.lambdas.invocations == []
    untouched(desk, shop)
    untouched(desk, api)


def test_a_word_naming_no_site_is_not_guessed(two: tuple[SlackDesk, RegisteredSite, RegisteredSite]) -> None:
    desk, shop, _api = two
    answer = desk.slack.slash_command(desk.command_url, text="shop update Rolling back", user_id=ALICE)
    assert "`shop` is not a /detour command, nor a site's name" in answer.json()["text"]
    desk.lambdas.wait_idle()
    assert desk.lambdas.invocations == []
    untouched(desk, shop)


def test_status_lists_every_site(two: tuple[SlackDesk, RegisteredSite, RegisteredSite]) -> None:
    desk, shop, _api = two
    started = datetime.now(UTC) - timedelta(minutes=12)
    IncidentStore(desk.world.table, boto3.client("dynamodb")).record(
        replace(transition("ALARM", 0, site=shop.site_id), alarm_name=shop.alarm_name, changed_at=started)
    )
    answer = desk.slack.slash_command(desk.command_url, text="status", user_id=MALLORY)  # read-only: anyone
    assert "Looking it up for every site" in answer.json()["text"]
    desk.lambdas.wait_idle()
    assert [event["site_id"] for event in queued(desk)] == ["*"]
    (said,) = desk.slack.responses_to(answer.response_url)
    lines = said.text.splitlines()
    assert lines[0] == "Detour protects 2 sites:"
    assert lines[1].startswith("• *api.example.com* is served by its primary")  # ordered by domain
    assert lines[2].startswith("• *shop.example.com* is on the maintenance page (an outage) since")
    assert "12 min" in lines[2]
    # in a site's channel, or named, status is that site's alone
    one = desk.slack.slash_command(desk.command_url, text="status", user_id=MALLORY, channel_id=SHOP_CHANNEL)
    named = desk.slack.slash_command(desk.command_url, text="api.example.com", user_id=MALLORY)
    desk.lambdas.wait_idle()
    (said,) = desk.slack.responses_to(one.response_url)
    assert said.text.startswith("*shop.example.com* is on the maintenance page")
    assert "api." not in said.text
    (said,) = desk.slack.responses_to(named.response_url)
    assert said.text.startswith("*api.example.com* is served by its primary")
    assert "shop." not in said.text


def test_a_shortcut_in_an_ambiguous_channel_is_refused_with_the_sites(
    two: tuple[SlackDesk, RegisteredSite, RegisteredSite],
) -> None:
    desk, shop, api = two
    answer = desk.slack.message_shortcut(
        desk.command_url, message_text="Root cause found", message_ts="1.000100", thread_ts=None, user_id=ALICE
    )
    assert answer.status == 200
    desk.lambdas.wait_idle()
    (said,) = desk.slack.responses_to(answer.response_url)
    assert "The shortcut cannot name a site" in said.text
    assert "shop.example.com" in said.text
    assert "api.example.com" in said.text
    assert desk.lambdas.invocations == []
    untouched(desk, shop)
    untouched(desk, api)
    # in a site's own channel it posts to that site
    desk.slack.message_shortcut(
        desk.command_url,
        message_text="Root cause found",
        message_ts="1.000200",
        thread_ts=None,
        user_id=ALICE,
        channel_id=SHOP_CHANNEL,
    )
    desk.lambdas.wait_idle()
    assert [u.message for u in desk.updates(shop.site_id)] == ["Root cause found"]
    untouched(desk, api)


def test_a_site_channel_is_allowed_and_another_is_not(two: tuple[SlackDesk, RegisteredSite, RegisteredSite]) -> None:
    desk, _, _ = two
    for channel in (SHOP_CHANNEL, API_CHANNEL, CHANNEL):
        answer = desk.slack.slash_command(desk.command_url, text="help", user_id=MALLORY, channel_id=channel)
        assert "/detour [site] status" in answer.json()["text"]
    answer = desk.slack.slash_command(desk.command_url, text="status", user_id=ALICE, channel_id="C0RANDOM")
    assert "only in its incident channels" in answer.json()["text"]


def test_a_command_for_one_site_never_touches_the_other(two: tuple[SlackDesk, RegisteredSite, RegisteredSite]) -> None:
    desk, shop, api = two
    on = desk.slack.slash_command(
        desk.command_url, text="shop.example.com maintenance on Upgrading until 2h", user_id=ALICE
    )
    assert "Turning planned maintenance on for shop.example.com" in on.json()["text"]
    desk.lambdas.wait_idle()
    assert inverted(shop.site_id)
    notice = desk.notice(shop.site_id)
    assert notice is not None
    assert notice.planned
    assert notice.message == "Upgrading"
    assert [(u.stage, u.message) for u in desk.updates(shop.site_id)] == [(Stage.IN_PROGRESS, "Upgrading")]
    untouched(desk, api)

    desk.slack.slash_command(desk.command_url, text="update Api is slow", user_id=ALICE, channel_id=API_CHANNEL)
    off = desk.slack.slash_command(desk.command_url, text="api.example.com maintenance off", user_id=ALICE)
    desk.lambdas.wait_idle()
    (said,) = desk.slack.responses_to(off.response_url)
    assert "No planned maintenance of api.example.com was on. Nothing changed." in said.text
    assert inverted(shop.site_id)  # the shop's maintenance goes on
    assert desk.notice(shop.site_id) is not None
    assert [u.message for u in desk.updates(shop.site_id)] == ["Upgrading"]
    assert [u.message for u in desk.updates(api.site_id)] == ["Api is slow"]
    assert not inverted(api.site_id)
    assert desk.notice(api.site_id) is None


def test_the_queued_work_for_an_unregistered_site_does_nothing_and_says_so(
    two: tuple[SlackDesk, RegisteredSite, RegisteredSite],
) -> None:
    """A site removed since the acknowledgement (or an id no site ever had): nothing to retry, so
    nothing is done, the person hears why once, and no other site is chosen instead."""
    desk, _shop, api = two
    desk.slack.slash_command(desk.command_url, text="update Pwned", user_id=ALICE, channel_id=SHOP_CHANNEL)
    desk.lambdas.wait_idle()
    (queued_work,) = queued(desk)
    ask = queued_work["ask"]
    before = len(desk.slack.responses_to(ask["response_url"]))  # the work done for shop answered once
    event = {"detour": "slack-command", "ask": ask, "site_id": "0000-not-a-site"}
    assert desk.invoke("slack_commands", event) == {"verb": "update", "refused": True}
    assert "The site of a queued Slack command is no longer registered" in desk.log("slack_commands")

    # queued as the acknowledgement queues it: not retried, not dead-lettered
    boto3.client("lambda", endpoint_url=desk.lambdas.url).invoke(
        FunctionName="detour-slack_commands", InvocationType="Event", Payload=json.dumps(event).encode()
    )
    desk.lambdas.wait_idle()
    assert [d for d in desk.lambdas.dead_letters if d.function_name == "detour-slack_commands"] == []
    told = desk.slack.responses_to(ask["response_url"])[before:]
    assert len(told) == 2  # once per delivery above
    assert told[0].text.startswith("Nothing changed: site '0000-not-a-site' is not registered")
    untouched(desk, api)


def test_a_site_removed_after_the_acknowledgement_is_not_done_for_another(
    two: tuple[SlackDesk, RegisteredSite, RegisteredSite],
) -> None:
    """The work does the site its acknowledgement chose, or nothing: it never chooses again."""
    desk, shop, api = two
    answer = desk.slack.slash_command(
        desk.command_url, text="update Rolling back", user_id=ALICE, channel_id=SHOP_CHANNEL
    )
    assert answer.status == 200
    desk.registry.remove(shop)  # before the work runs: it waits for nothing, so remove and re-queue
    desk.lambdas.wait_idle()
    (event,) = queued(desk)
    assert event["site_id"] == shop.site_id
    assert desk.invoke("slack_commands", event)["refused"] is True
    untouched(desk, api)
