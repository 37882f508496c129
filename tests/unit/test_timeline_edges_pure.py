"""The timeline's edges, the pure parts: default stages after a recovery, maintenance on the page,
Slack's markup in a maintenance message. Found by a second adversarial review; each was once a real
defect."""

from __future__ import annotations

from dataclasses import replace

from detour.incidents.notices import SiteNotice
from detour.incidents.operator_updates import IncidentContext
from detour.incidents.updates import MAINTENANCE_STAGES, Span, Timeline, alarm_entry
from detour.incidents.windows import FailoverWindow
from detour.page.status import SiteHistory, page_status
from detour.slack.commands import Verb, parse_command
from detour.slack.request import SlackAsk
from tests.support.page import at, timeline, transition, update

DEFAULT = "We are working on it."


def _command(text: str) -> SlackAsk:
    return SlackAsk("command", "U0ALICE", "C0DETOUR01", text, "1.2.abc", "https://hooks.slack.test/x")


def test_the_maintenance_message_is_what_people_read_not_slacks_markup() -> None:
    command = parse_command(_command("maintenance on Database &amp; cache upgrade, ask <@U0ALICE> until 2h"))
    assert command.verb is Verb.MAINTENANCE_ON
    assert command.message == "Database & cache upgrade, ask @someone"


def test_an_update_without_a_stage_after_a_recovery_is_news_not_a_closing_word() -> None:
    window = FailoverWindow(site_id="s", started_at=at(0), ended_at=at(20))
    ok = transition("OK", 20)
    context = IncidentContext(
        site_id="s",
        now=at(23),
        before=window,
        span=Span(since=at(-30), closing_until=at(0)),
        timeline=Timeline(updates=(alarm_entry(replace(ok, site_id="s")),)),
        maintenance=False,
    )
    assert not context.default_stage.closing, context.default_stage
    assert context.window is None  # news for the next incident, as the README promises


def test_planned_maintenance_turned_on_after_a_recovery_is_not_shown_as_restored() -> None:
    history = SiteHistory.of([transition("ALARM", 0), transition("OK", 20)])
    notice = SiteNotice("Upgrading the database.", planned=True, until=at(140), since=at(22))
    news = timeline(update("in_progress", 22, "Upgrading the database."))
    status = page_status(history, notice, DEFAULT, at(23), news)
    assert status.view == "planned", (status.state, status.view, status.message)


def test_maintenance_that_overruns_its_until_is_not_shown_as_an_outage() -> None:
    history = SiteHistory(
        latest=transition("ALARM", 0),
        recent=[FailoverWindow(site_id="s", started_at=at(0), planned=True)],
    )
    news = timeline(update("in_progress", 0, "Upgrading the database."))
    status = page_status(history, None, DEFAULT, at(130), news)  # the notice said until at(120): now ignored
    assert status.view == "planned", (status.state, status.view)


def test_missing_health_data_during_planned_maintenance_keeps_a_maintenance_stage() -> None:
    entry = alarm_entry(replace(transition("INSUFFICIENT_DATA", 5), planned=True))
    assert entry.stage in MAINTENANCE_STAGES, entry.stage
