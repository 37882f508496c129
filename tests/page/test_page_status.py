"""What the page says, decided from the site's transitions (in any delivery order), its notice and
the incident's timeline, at a given moment."""

from __future__ import annotations

import pytest

from detour.incidents.notices import NoticeError, SiteNotice
from detour.incidents.updates import RESOLVED_FOR
from detour.page.status import RESTORED_MESSAGE, PageState, SiteHistory, page_status
from tests.support.page import at, timeline, transition, update

DEFAULT = "We are working on it."
RESOLVED_MINUTES = RESOLVED_FOR.total_seconds() / 60


def status_after(*transitions, notice=None, now_minutes: float = 60, news=None):  # type: ignore[no-untyped-def]
    return page_status(SiteHistory.of(transitions), notice, DEFAULT, at(now_minutes), news)


def test_before_any_alarm_the_page_is_unavailable_with_no_start_and_no_time_yet() -> None:
    status = status_after()
    assert (status.state, status.started_at, status.resolved_at, status.updated_at) == (
        PageState.UNAVAILABLE,
        None,
        None,
        None,
    )
    assert (status.message, status.view, status.stage, status.updates) == (DEFAULT, "neutral", None, ())


def test_an_update_posted_before_the_alarm_is_on_the_page_at_once() -> None:
    status = status_after(news=timeline(update("investigating", 58, "Checkout errors, looking into it.")))
    assert (status.state, status.view) == (PageState.UNAVAILABLE, "neutral")
    assert (status.message, status.stage, status.updated_at) == (
        "Checkout errors, looking into it.",
        "investigating",
        at(58),
    )


def test_an_alarm_is_an_outage_since_its_time_updated_then() -> None:
    status = status_after(transition("ALARM", 0, reason="0 of 3 checkers healthy", description="is failing"))
    assert (status.state, status.started_at, status.resolved_at) == (PageState.UNAVAILABLE, at(0), None)
    assert (status.updated_at, status.view) == (at(0), "unavailable")  # the newest information, not "now"
    assert status.detail == "0 of 3 checkers healthy"  # CloudWatch's words, not the stack's description


def test_missing_data_during_an_outage_keeps_the_outage_and_its_start() -> None:
    status = status_after(transition("ALARM", 0), transition("INSUFFICIENT_DATA", 5), transition("ALARM", 9))
    assert (status.state, status.started_at, status.updated_at) == (PageState.UNAVAILABLE, at(0), at(9))
    status = status_after(transition("ALARM", 0), transition("INSUFFICIENT_DATA", 5))
    assert (status.state, status.started_at, status.updated_at) == (PageState.UNAVAILABLE, at(0), at(5))


def test_missing_data_outside_an_outage_is_unknown_and_says_nothing_is_failing() -> None:
    status = status_after(
        transition("ALARM", 0),
        transition("OK", 3),
        transition("INSUFFICIENT_DATA", 20, reason="no datapoints", description="the primary is failing"),
    )
    assert (status.state, status.started_at, status.view, status.detail) == (
        PageState.UNKNOWN,
        None,
        "neutral",
        "no datapoints",
    )


def test_recovery_resolves_with_both_ends_of_the_outage_and_its_own_words() -> None:
    status = status_after(
        transition("ALARM", 0),
        transition("OK", 16.5, reason="3 of 3 checkers healthy", description="the primary is failing"),
        now_minutes=17,
    )
    assert (status.state, status.started_at, status.resolved_at) == (PageState.RESOLVED, at(0), at(16.5))
    assert (status.updated_at, status.view) == (at(16.5), "resolved")
    assert status.message == RESTORED_MESSAGE  # never the outage's default message
    assert status.detail == "3 of 3 checkers healthy"  # never "the primary is failing"


def test_a_resolution_is_news_for_resolved_for_then_the_page_turns_neutral() -> None:
    recovered = (transition("ALARM", 0), transition("OK", 16.5))
    assert status_after(*recovered, now_minutes=16.5 + RESOLVED_MINUTES).state is PageState.RESOLVED

    status = status_after(*recovered, now_minutes=16.5 + RESOLVED_MINUTES + 0.01)
    assert (status.state, status.view, status.started_at, status.resolved_at, status.detail) == (
        PageState.UNAVAILABLE,
        "neutral",
        None,
        None,
        "",
    )
    assert status.message == DEFAULT
    # the moment the resolution stopped being news: later than the resolved page's, and the same
    # at every later refresh (a sweep that learns nothing publishes nothing)
    assert status.updated_at == at(16.5 + RESOLVED_MINUTES)
    assert status_after(*recovered, now_minutes=300) == status


def test_the_neutral_page_shows_news_posted_after_the_resolution_stopped_being_news() -> None:
    news = timeline(update("investigating", 40, "Errors again, looking."))
    status = status_after(transition("ALARM", 0), transition("OK", 16.5), now_minutes=41, news=news)
    assert (status.view, status.message, status.updated_at, status.stage) == (
        "neutral",
        "Errors again, looking.",
        at(40),
        "investigating",
    )


def test_an_old_alarm_delivered_after_its_recovery_does_not_reopen_the_page() -> None:
    # Delivery order: OK first, then the ALARM it ended. The set is what counts.
    status = status_after(transition("OK", 16.5), transition("ALARM", 0), now_minutes=17)
    assert status.state is PageState.RESOLVED


def test_the_latest_update_is_the_newest_from_people_else_the_notice_else_the_default() -> None:
    alarm_only = timeline(update("investigating", 0, "The site stopped answering.", source="alarm"))
    people = timeline(
        update("investigating", 0, "The site stopped answering.", source="alarm"),
        update("identified", 5, "A bad deploy; rolling back.", source="slack"),
        update("monitoring", 7, "Rolled back.", source="cli"),
        update("investigating", 8, "Health data went missing.", source="alarm"),
    )
    notice = SiteNotice("Database upgrade until 04:00 UTC.")
    assert status_after(transition("ALARM", 0), news=alarm_only).message == DEFAULT
    assert status_after(transition("ALARM", 0), news=alarm_only, notice=notice).message == notice.message
    status = status_after(transition("ALARM", 0), news=people, notice=notice)
    assert status.message == "Rolled back."
    assert status.stage == "investigating"  # the newest entry's, the alarm's included
    assert [u.message for u in status.updates][:2] == ["Health data went missing.", "Rolled back."]
    assert status.updated_at == at(8)


def test_a_resolved_page_says_only_what_was_said_since_the_recovery() -> None:
    during = update("identified", 5, "A bad deploy; back in 15 minutes.")
    after = update("resolved", 18, "Fixed: the deploy is rolled back.")
    outage = (transition("ALARM", 0), transition("OK", 16.5))
    notice = SiteNotice("We are restoring the service.")
    assert status_after(*outage, now_minutes=17, news=timeline(during), notice=notice).message == RESTORED_MESSAGE
    status = status_after(*outage, now_minutes=19, news=timeline(during, after))
    assert (status.message, status.updated_at, status.stage) == (after.message, at(18), "resolved")


def test_the_page_shows_updates_without_their_authors_and_counts_the_earlier_ones() -> None:
    news = timeline(
        update("identified", 5, author="U0SECRET"), update("monitoring", 9, author="arn:aws:iam::1:user/x"), earlier=7
    )
    status = status_after(transition("ALARM", 0), news=news)
    assert status.earlier_updates == 7
    assert [(u.stage, u.posted_at, u.source) for u in status.updates] == [
        ("monitoring", at(9), "slack"),
        ("identified", at(5), "slack"),
    ]
    assert not any(hasattr(u, "author") for u in status.updates)
    assert "U0SECRET" not in str(status.to_json())
    assert "arn:aws" not in str(status.to_json())


def test_planned_maintenance_shows_the_operators_message_and_its_expected_end() -> None:
    notice = SiteNotice("Database upgrade.", planned=True, until=at(120))
    status = status_after(transition("ALARM", 0), notice=notice)
    assert (status.message, status.planned, status.expected_end, status.view) == (
        "Database upgrade.",
        True,
        at(120),
        "planned",
    )
    assert status_after(transition("ALARM", 0), notice=SiteNotice("Slow.", until=at(120))).expected_end is None


def test_status_json_has_exactly_the_documented_fields() -> None:
    news = timeline(
        update("identified", 5, "A bad deploy."),
        update("investigating", 0, "Stopped answering.", source="alarm"),
        earlier=2,
    )
    status = status_after(transition("ALARM", 0), transition("OK", 16.5), now_minutes=17, news=news)
    assert status.to_json() == {
        "state": "resolved",
        "started_at": "2026-11-21T02:14:27.123Z",
        "updated_at": "2026-11-21T02:30:57.123Z",
        "resolved_at": "2026-11-21T02:30:57.123Z",
        "message": RESTORED_MESSAGE,
        "planned": False,
        "expected_end": None,
        "stage": "identified",
        "updates": [
            {"stage": "identified", "message": "A bad deploy.", "posted_at": "2026-11-21T02:19:27.123Z"},
            {"stage": "investigating", "message": "Stopped answering.", "posted_at": "2026-11-21T02:14:27.123Z"},
        ],
        "earlier_updates": 2,
        "failed_checks": [],
    }
    embedded = status.to_json(texts=False)  # the copy inside the page, whose HTML has the texts
    assert "message" not in embedded
    assert "failed_checks" not in embedded
    assert embedded["updates"] == [
        {"stage": "identified", "posted_at": "2026-11-21T02:19:27.123Z"},
        {"stage": "investigating", "posted_at": "2026-11-21T02:14:27.123Z"},
    ]


def test_a_notice_needs_a_bounded_message() -> None:
    with pytest.raises(NoticeError, match="needs a message"):
        SiteNotice("  ")
    with pytest.raises(NoticeError, match="at most 500 characters"):
        SiteNotice("x" * 501)
