"""What the page says, decided from the site's transitions (in any delivery order) and its notice."""

from __future__ import annotations

import pytest

from detour.page_status import PageState, SiteHistory, page_status
from detour.site_notice import NoticeError, SiteNotice
from tests.support.page import at, transition

DEFAULT = "We are working on it."


def status_after(*transitions, notice=None, now_minutes: float = 60):  # type: ignore[no-untyped-def]
    return page_status(SiteHistory.of(transitions), notice, DEFAULT, at(now_minutes))


def test_before_any_alarm_the_page_is_unavailable_with_no_start_yet() -> None:
    status = status_after()
    assert (status.state, status.started_at, status.resolved_at) == (PageState.UNAVAILABLE, None, None)
    assert status.message == DEFAULT


def test_an_alarm_is_an_outage_since_its_time() -> None:
    status = status_after(transition("ALARM", 0, reason="0 of 3 checkers healthy"))
    assert (status.state, status.started_at, status.resolved_at) == (PageState.UNAVAILABLE, at(0), None)
    assert status.detail == "0 of 3 checkers healthy"


def test_missing_data_during_an_outage_keeps_the_outage_and_its_start() -> None:
    status = status_after(transition("ALARM", 0), transition("INSUFFICIENT_DATA", 5), transition("ALARM", 9))
    assert (status.state, status.started_at) == (PageState.UNAVAILABLE, at(0))
    status = status_after(transition("ALARM", 0), transition("INSUFFICIENT_DATA", 5))
    assert (status.state, status.started_at) == (PageState.UNAVAILABLE, at(0))


def test_missing_data_outside_an_outage_is_unknown() -> None:
    status = status_after(transition("ALARM", 0), transition("OK", 3), transition("INSUFFICIENT_DATA", 20))
    assert (status.state, status.started_at) == (PageState.UNKNOWN, None)


def test_recovery_resolves_with_both_ends_of_the_outage() -> None:
    status = status_after(transition("ALARM", 0), transition("OK", 16.5))
    assert (status.state, status.started_at, status.resolved_at) == (PageState.RESOLVED, at(0), at(16.5))


def test_an_old_alarm_delivered_after_its_recovery_does_not_reopen_the_page() -> None:
    # Delivery order: OK first, then the ALARM it ended. The set is what counts.
    status = status_after(transition("OK", 16.5), transition("ALARM", 0))
    assert status.state is PageState.RESOLVED


def test_an_operator_notice_replaces_the_default_message_and_may_be_planned() -> None:
    notice = SiteNotice("Database upgrade until 04:00 UTC.", planned=True)
    status = status_after(transition("ALARM", 0), notice=notice)
    assert (status.message, status.planned) == ("Database upgrade until 04:00 UTC.", True)


def test_status_json_has_exactly_the_documented_fields() -> None:
    status = status_after(transition("ALARM", 0), transition("OK", 16.5), now_minutes=17)
    assert status.to_json() == {
        "state": "resolved",
        "started_at": "2026-11-21T02:14:27.123Z",
        "updated_at": "2026-11-21T02:31:27.123Z",
        "resolved_at": "2026-11-21T02:30:57.123Z",
        "message": DEFAULT,
        "planned": False,
    }


def test_a_notice_needs_a_bounded_message() -> None:
    with pytest.raises(NoticeError, match="needs a message"):
        SiteNotice("  ")
    with pytest.raises(NoticeError, match="at most 500 characters"):
        SiteNotice("x" * 501)
