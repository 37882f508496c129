"""The timeline's edges end to end on loopback (tests/support/slack_desk.py): updates around a
recovery and a flap, planned maintenance before and after its alarm and past its `until`. Found by a
second adversarial review; each was once a real defect."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from detour.incidents.store import IncidentStore
from detour.incidents.updates import Stage, UpdateLog
from tests.support.events import transition_event
from tests.support.slack_desk import ALICE, SlackDesk, health_check, slack_desk
from tests.support.transitions import transition


@pytest.fixture
def desk(aws: str) -> Iterator[SlackDesk]:
    with slack_desk(aws) as built:
        yield built


def deliver(desk: SlackDesk, event: dict[str, Any]) -> None:
    desk.invoke("notify_slack", event)
    desk.invoke("refresh_page", event)


def ask(desk: SlackDesk, text: str) -> str:
    """The person's last answer to `/detour <text>` once the work is done."""
    answer = desk.slack.slash_command(desk.command_url, text=text, user_id=ALICE)
    desk.lambdas.wait_idle()
    said = [r.text for r in desk.slack.responses_to(answer.response_url)]
    assert said, answer.text
    return said[-1]


def test_an_update_without_a_stage_minutes_after_a_recovery_survives_the_flaps_alarm(desk: SlackDesk) -> None:
    now = datetime.now(UTC)
    deliver(desk, transition_event("ALARM", "OK", now - timedelta(minutes=20)))
    deliver(desk, transition_event("OK", "ALARM", now - timedelta(minutes=3)))
    said = ask(desk, "update Errors are back, we are on it")
    deliver(desk, transition_event("ALARM", "OK", datetime.now(UTC)))  # CloudWatch catches up
    status = desk.status()
    messages = [u["message"] for u in status["updates"]]
    assert "Errors are back, we are on it" in messages, (said, status["stage"], messages)


def test_a_late_closing_word_is_not_promised_on_a_page_that_never_shows_it(desk: SlackDesk) -> None:
    now = datetime.now(UTC)
    deliver(desk, transition_event("ALARM", "OK", now - timedelta(minutes=40)))
    deliver(desk, transition_event("OK", "ALARM", now - timedelta(minutes=15)))
    said = ask(desk, "update resolved All good now; a postmortem follows tomorrow")
    on_page = any(u["message"].startswith("All good now") for u in desk.status()["updates"])
    assert on_page or "the page shows it now" not in said, said


def test_slacks_answer_during_maintenance_before_its_alarm_names_the_maintenance(aws: str) -> None:
    check_id = health_check()
    with slack_desk(aws, site_id=check_id) as desk:
        ask(desk, "maintenance on Upgrading the database until 2h")
        said = ask(desk, "update Halfway there, about an hour to go")
        assert "planned maintenance" in said, said


def test_status_during_maintenance_before_its_alarm_does_not_say_no_incident(aws: str) -> None:
    check_id = health_check()
    with slack_desk(aws, site_id=check_id) as desk:
        ask(desk, "maintenance on Upgrading the database until 2h")
        said = ask(desk, "status")
        assert "no incident is open" not in said, said


def test_the_recovery_that_ends_planned_maintenance_is_completed_not_resolved(function_env: Any) -> None:
    client = boto3.client("dynamodb")
    store = IncidentStore(function_env.name, client)
    store.record(replace(transition("ALARM", 0), planned=True))  # the inversion's ALARM, during the notice
    store.record(transition("OK", 30, old_state="ALARM"))  # after `maintenance off` cleared the notice
    (window,) = store.windows("hc-1")
    assert window.planned
    assert window.ended_at is not None
    newest = UpdateLog(function_env.name, client).timeline("hc-1", limit=1).updates[0]
    assert newest.stage is Stage.COMPLETED, (newest.stage, newest.message)
