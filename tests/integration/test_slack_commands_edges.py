"""`/detour`'s edges end to end on loopback (tests/support/slack_desk.py): maintenance during an
outage, retries and lost answers, user groups, Slack's markup in a shortcut, a flap, webhook mode.
Found by an adversarial review; each was once a real defect."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import boto3
import pytest

from detour.incidents.maintenance import Maintenance
from detour.incidents.notices import NoticeBoard
from detour.incidents.posting import UpdateTargets
from detour.incidents.store import IncidentStore
from detour.incidents.updates import Source, Stage, Update, UpdateLog
from detour.slack.commands import Command, Verb
from detour.slack.desk import Desk
from detour.slack.request import SlackAsk
from tests.support.events import SITE_ID, transition_event
from tests.support.slack_desk import ALICE, MALLORY, SlackDesk, health_check, inverted, slack_desk


@pytest.fixture
def desk(aws: str) -> Iterator[SlackDesk]:
    with slack_desk(aws) as built:
        yield built


class FlakyResponseUrl:
    """A response_url whose first POST fails (Slack briefly down); later ones are kept."""

    def __init__(self, failures: int = 1) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.failures > 0:
                    outer.failures -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/commands/T0DETOUR/1/flaky"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------------------------ the edges


def test_maintenance_on_during_an_open_outage_is_refused(aws: str) -> None:
    check_id = health_check()
    with slack_desk(aws, site_id=check_id) as desk:
        alarm = transition_event("ALARM", "OK", datetime.now(UTC) - timedelta(minutes=5), site_id=check_id)
        desk.invoke("notify_slack", alarm)
        text = "maintenance on Fixing the database until 2h"
        answer = desk.slack.slash_command(desk.command_url, text=text, user_id=ALICE)
        desk.lambdas.wait_idle()
        said = [r.text for r in desk.slack.responses_to(answer.response_url)]
        assert not inverted(check_id), f"health check inverted during an outage; the person was told: {said}"
        assert said
        assert said[-1].startswith("Nothing changed: an outage is open since")


def test_maintenance_off_whose_answer_was_lost_is_not_reported_as_nothing_changed(aws: str) -> None:
    check_id = health_check()
    flaky = FlakyResponseUrl()
    try:
        with slack_desk(aws, site_id=check_id) as desk:
            desk.slack.slash_command(desk.command_url, text="maintenance on Upgrading until 2h", user_id=ALICE)
            desk.lambdas.wait_idle()
            assert inverted(check_id)
            request = desk.slack.slash_command_request(desk.command_url, text="maintenance off", user_id=ALICE)
            assert request.tampered(response_url=flaky.url).resigned().send().status == 200
            desk.lambdas.wait_idle()
            assert not inverted(check_id)  # the first attempt did turn it off
            said = [m["text"] for m in flaky.received]
            assert said, "the person never heard anything"
            assert "Nothing changed" not in said[-1], said
    finally:
        flaky.close()


def test_a_retried_maintenance_on_posts_its_update_once(aws: str) -> None:
    check_id = health_check()
    with slack_desk(aws, site_id=check_id) as desk:
        _maintenance_on_twice(desk, check_id)


def _maintenance_on_twice(desk: SlackDesk, check_id: str) -> None:
    dynamodb = boto3.client("dynamodb")
    lambdas = boto3.client("lambda", endpoint_url=desk.lambdas.url)
    targets = UpdateTargets(refresh_page="detour-refresh_page", notify_slack="detour-notify_slack")
    table = desk.world.table
    work = Desk(
        site=desk.sites[0],
        store=IncidentStore(table, dynamodb),
        log=UpdateLog(table, dynamodb),
        notices=NoticeBoard(table, dynamodb),
        lambda_client=lambdas,
        targets=targets,
        maintenance=Maintenance(check_id, table, targets, dynamodb, boto3.client("route53"), lambdas),
    )
    ask = SlackAsk("command", ALICE, "C0DETOUR01", "maintenance on Upgrading until 2h", "1.2.abc", "https://x")
    command = Command(Verb.MAINTENANCE_ON, message="Upgrading", until="2h")
    now = datetime.now(UTC)
    work.answer(ask, command, now)
    work.answer(ask, command, now + timedelta(seconds=70))  # Lambda's first retry of the same event
    desk.lambdas.wait_idle()
    posted = [u for u in UpdateLog(table, dynamodb).timeline(check_id).updates if u.stage is Stage.IN_PROGRESS]
    assert len(posted) == 1, [(u.posted_at, u.message) for u in posted]


def test_a_member_of_an_allowed_user_group_may_post(aws: str) -> None:
    with slack_desk(aws, updaters="S0ONCALL") as desk:
        desk.slack.usergroups["S0ONCALL"] = {MALLORY}
        answer = desk.slack.slash_command(desk.command_url, text="update Found the cause", user_id=MALLORY)
        desk.lambdas.wait_idle()
        (said,) = desk.slack.responses_to(answer.response_url)
        assert said.text.startswith("Posted to the www.example.com maintenance page")
        desk.slack.usergroups["S0ONCALL"] = set()  # left the rota
        answer = desk.slack.slash_command(desk.command_url, text="update Again", user_id=MALLORY)
        desk.lambdas.wait_idle()
        (said,) = desk.slack.responses_to(answer.response_url)
        assert "not on Detour's list" in said.text


def test_a_user_group_lookup_that_fails_still_answers_the_person(aws: str) -> None:
    with slack_desk(aws, updaters="S0ONCALL") as desk:
        answer = desk.slack.slash_command(desk.command_url, text="update Found the cause", user_id=MALLORY)
        assert answer.status == 200
        desk.lambdas.wait_idle()
        assert desk.slack.responses_to(answer.response_url), "the person was never answered"


def test_the_shortcut_publishes_what_the_message_says_not_slacks_escapes(desk: SlackDesk) -> None:
    desk.invoke("notify_slack", transition_event("ALARM", "OK", datetime.now(UTC) - timedelta(minutes=3)))
    (root,) = desk.slack.roots()
    desk.slack.message_shortcut(
        desk.command_url,
        message_text="Database &amp; cache are back; errors &lt; 1%",  # what Slack sends for "Database & cache ..."
        message_ts=root.ts,
        thread_ts=root.ts,
        user_id=ALICE,
    )
    desk.lambdas.wait_idle()
    (update,) = [u for u in desk.updates() if u.source is Source.SLACK]
    assert update.message == "Database & cache are back; errors < 1%"


def test_the_shortcut_does_not_publish_slack_user_ids_on_the_page(desk: SlackDesk) -> None:
    alarm = transition_event("ALARM", "OK", datetime.now(UTC) - timedelta(minutes=3))
    desk.invoke("notify_slack", alarm)
    desk.invoke("refresh_page", alarm)
    (root,) = desk.slack.roots()
    desk.slack.message_shortcut(
        desk.command_url,
        message_text=f"<@{ALICE}> rolled back the deploy; back in 10 minutes.",
        message_ts=root.ts,
        thread_ts=root.ts,
        user_id=ALICE,
    )
    desk.lambdas.wait_idle()
    assert ALICE not in json.dumps(desk.status())
    assert ALICE not in desk.page()


def test_an_update_posted_before_the_alarm_of_a_flap_stays_on_the_page(desk: SlackDesk) -> None:
    now = datetime.now(UTC)
    for event in (
        transition_event("ALARM", "OK", now - timedelta(minutes=20)),
        transition_event("OK", "ALARM", now - timedelta(minutes=6)),
    ):
        desk.invoke("notify_slack", event)
        desk.invoke("refresh_page", event)
    desk.slack.slash_command(desk.command_url, text="update investigating Down again, we are on it", user_id=ALICE)
    desk.lambdas.wait_idle()
    assert any(u["message"] == "Down again, we are on it" for u in desk.status()["updates"])
    again = transition_event("ALARM", "OK", datetime.now(UTC))  # CloudWatch catches up a minute later
    desk.invoke("notify_slack", again)
    desk.invoke("refresh_page", again)
    messages = [u["message"] for u in desk.status()["updates"]]
    assert "Down again, we are on it" in messages, messages


def test_a_refused_shortcut_tells_the_person_through_response_url(desk: SlackDesk) -> None:
    desk.invoke("notify_slack", transition_event("ALARM", "OK", datetime.now(UTC) - timedelta(minutes=3)))
    (root,) = desk.slack.roots()
    answer = desk.slack.message_shortcut(
        desk.command_url, message_text="We are hacked", message_ts=root.ts, thread_ts=root.ts, user_id=MALLORY
    )
    assert answer.status == 200
    desk.lambdas.wait_idle()
    said = [r.text for r in desk.slack.responses_to(answer.response_url)]
    assert any("not on Detour's list" in text for text in said), (answer.text, said)


def test_a_message_starting_with_a_maintenance_stage_word_keeps_its_words_in_an_outage(desk: SlackDesk) -> None:
    desk.invoke("notify_slack", transition_event("ALARM", "OK", datetime.now(UTC) - timedelta(minutes=3)))
    desk.slack.slash_command(desk.command_url, text="update Scheduled jobs are failing too", user_id=ALICE)
    desk.lambdas.wait_idle()
    (update,) = [u for u in desk.updates() if u.source is Source.SLACK]
    assert (update.stage, update.message) == (Stage.INVESTIGATING, "Scheduled jobs are failing too")


def test_a_duplicate_update_is_posted_once_in_webhook_mode(desk: SlackDesk) -> None:
    client = boto3.client("secretsmanager")
    value = json.loads(client.get_secret_value(SecretId=desk.world.secret_arn)["SecretString"])
    webhook = {"webhook_url": desk.slack.webhook_url, "signing_secret": value["signing_secret"]}
    client.put_secret_value(SecretId=desk.world.secret_arn, SecretString=json.dumps(webhook))
    log = UpdateLog(desk.world.table, boto3.client("dynamodb"))
    update = Update(
        SITE_ID, Stage.IDENTIFIED, "Found it", datetime.now(UTC), Source.CLI, "arn:aws:iam::1:user/a", "cli:1"
    )
    log.post(update)
    event = {"detour": "update-posted", "site_id": SITE_ID, "update": update.key}
    desk.invoke("notify_slack", event)
    desk.invoke("notify_slack", event)  # the duplicate's own ask, or Lambda's second delivery
    assert sum("Found it" in json.dumps(post) for post in desk.slack.webhook_posts) == 1
