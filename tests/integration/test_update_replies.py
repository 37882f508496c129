"""An operator's update is replied exactly once in its incident's thread, whatever the delivery:
duplicated, concurrent, before the thread exists, after the incident ended, or after a post whose
answer was lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from detour.incidents.sites import UnregisteredSite
from detour.incidents.updates import Source, Stage, Update, UpdateLog
from detour.runtime import direct_events
from detour.slack.transport import SlackDeliveryError
from detour.slack.update_replies import ThreadNotReady
from tests.support.events import SITE_ID, transition_event
from tests.support.slack_desk import ALICE, SlackDesk, slack_desk

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def desk(aws: str) -> Iterator[SlackDesk]:
    with slack_desk(aws) as built:
        yield built


def alarm(desk: SlackDesk, state: str, old: str, minutes_ago: float) -> None:
    desk.invoke("notify_slack", transition_event(state, old, NOW - timedelta(minutes=minutes_ago)))


def posted(desk: SlackDesk, message: str, minutes_ago: float, update_id: str = "slack:1.2.3") -> dict[str, Any]:
    update = Update(
        SITE_ID, Stage.IDENTIFIED, message, NOW - timedelta(minutes=minutes_ago), Source.SLACK, ALICE, update_id
    )
    UpdateLog(desk.world.table, boto3.client("dynamodb")).post(update)
    return direct_events.update_posted(SITE_ID, update.key)


def replies_saying(desk: SlackDesk, text: str) -> list[str]:
    return [m.text for root in desk.slack.roots() for m in [root, *desk.slack.replies(root)] if text in m.text]


def test_a_duplicated_delivery_replies_once(desk: SlackDesk) -> None:
    alarm(desk, "ALARM", "OK", 5)
    event = posted(desk, "Found the cause", 1)
    first = desk.invoke("notify_slack", event)
    again = desk.invoke("notify_slack", event)
    assert (first["action"], again["action"]) == ("replied the update in the incident thread", "already replied")
    assert len(replies_saying(desk, "Found the cause")) == 1


def test_concurrent_deliveries_reply_once(desk: SlackDesk) -> None:
    alarm(desk, "ALARM", "OK", 5)
    event = posted(desk, "Found the cause", 1)
    module = desk.functions["notify_slack"]
    desk.invoke("notify_slack", direct_events.update_posted(SITE_ID, posted(desk, "warm-up", 2, "slack:0")["update"]))
    handler = module._module.lambda_handler  # type: ignore[union-attr] # the warm function, called side by side
    results: list[Any] = []

    def deliver() -> None:
        from detour_cli.local.lambda_runtime import LambdaContext, environment  # noqa: PLC0415

        with environment(module.variables):
            results.append(handler(event, LambdaContext(function_name=module.function_name)))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert len(replies_saying(desk, "Found the cause")) == 1


def test_an_update_before_the_thread_waits_for_it_then_lands_in_it(desk: SlackDesk) -> None:
    # The update belongs to an incident the alarm has opened (log_window recorded it) but notify_slack
    # has not announced yet: its delivery fails (retried), and lands once the thread is there.
    desk.invoke("refresh_page", transition_event("ALARM", "OK", NOW - timedelta(minutes=5)))
    event = posted(desk, "Found the cause", 1)
    with pytest.raises(ThreadNotReady, match="has no Slack thread yet"):
        desk.invoke("notify_slack", event)
    alarm(desk, "ALARM", "OK", 5)
    assert desk.invoke("notify_slack", event)["action"] == "replied the update in the incident thread"
    (root,) = desk.slack.roots()
    assert any("Found the cause" in m.text for m in desk.slack.replies(root))


def test_a_late_delivery_after_recovery_still_goes_to_its_incident(desk: SlackDesk) -> None:
    alarm(desk, "ALARM", "OK", 20)
    event = posted(desk, "Rolling back", 15)
    alarm(desk, "OK", "ALARM", 10)
    alarm(desk, "ALARM", "OK", 2)  # a new incident since: the update is not its business
    desk.invoke("notify_slack", event)
    first, second = sorted(desk.slack.roots(), key=lambda m: float(m.ts))
    assert any("Rolling back" in m.text for m in desk.slack.replies(first))
    assert not any("Rolling back" in m.text for m in desk.slack.replies(second))


def test_a_post_whose_answer_was_lost_is_found_not_posted_again(desk: SlackDesk) -> None:
    alarm(desk, "ALARM", "OK", 5)
    event = posted(desk, "Found the cause", 1)
    desk.slack.fail_next("ghost_post")  # Slack posts it, then answers 500
    with pytest.raises(SlackDeliveryError):
        desk.invoke("notify_slack", event)
    assert desk.invoke("notify_slack", event)["action"] == "replied the update in the incident thread"
    assert len(replies_saying(desk, "Found the cause")) == 1


def test_an_update_for_another_site_or_a_missing_update_is_refused(desk: SlackDesk) -> None:
    with pytest.raises(UnregisteredSite, match="site 'another-site' is not registered"):
        desk.invoke("notify_slack", direct_events.update_posted("another-site", "UPDATE#x"))
    with pytest.raises(direct_events.InvalidDirectEvent, match="not in the incidents table"):
        desk.invoke("notify_slack", direct_events.update_posted(SITE_ID, "UPDATE#2026-01-01T00:00:00.000Z#x"))
