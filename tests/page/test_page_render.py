"""The rendered page: what a reader sees, that nothing from an alarm or operator becomes markup,
that it makes no external request, stays small and accessible. Asserted on the parsed document."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from detour.page import MAX_PAGE_BYTES, PageSettings, PageSettingsError, duration, render_page, render_status
from detour.page_status import MAX_DETAIL_CHARS, PageState, PageStatus, SiteHistory, page_status
from detour.site_notice import MAX_MESSAGE_CHARS, SiteNotice
from detour.windows import FailoverWindow
from tests.support.html import Element, parse_html
from tests.support.page import HOSTILE, SETTINGS, at, transition


def render(*transitions, notice=None, settings=SETTINGS, now_minutes: float = 42) -> Element:  # type: ignore[no-untyped-def]
    history = SiteHistory.of(transitions)
    status = page_status(history, notice, settings.default_message, at(now_minutes))
    return parse_html(render_page(status, history.recent_windows(5), settings))


def shown_block(page: Element) -> str:
    (shown,) = [e.attrs["data-show"] for e in page.iter() if "data-show" in e.attrs and "hidden" not in e.attrs]
    return str(shown)


def test_an_outage_page_says_who_what_since_when_for_how_long_and_what_next() -> None:
    page = render(transition("ALARM", 0))
    text = page.by_id("since").visible_text()
    assert shown_block(page) == "unavailable"
    assert page.find_all("title")[0].text == "Example Shop: temporarily unavailable"
    assert "Example Shop" in page.find_all("main")[0].find_all("p")[0].text
    assert text == "2026-11-21 02:14 UTC"
    assert page.by_id("since").find_all("time")[0].attrs["datetime"] == "2026-11-21T02:14:27.123Z"
    assert page.by_id("duration").text == "42 min so far"
    assert page.by_id("message").text == SETTINGS.default_message
    assert "updates itself" in page.by_id("next").text
    contact = page.by_id("contact")
    assert (contact.attrs["href"], contact.text) == ("mailto:support@example.com", "support@example.com")


def test_a_resolved_page_says_the_service_is_back_and_offers_a_reload() -> None:
    page = render(transition("ALARM", 0), transition("OK", 75), now_minutes=76)
    assert shown_block(page) == "resolved"
    resolved = next(e for e in page.iter() if e.attrs.get("data-show") == "resolved")
    assert "up to a minute" in resolved.visible_text()
    assert page.by_id("reload").tag == "button"
    assert page.by_id("duration").text == "1 h 15 min"
    assert page.by_id("resolved").visible_text() == "2026-11-21 03:29 UTC"


def test_planned_maintenance_shows_its_own_heading_and_the_operators_message() -> None:
    page = render(transition("ALARM", 0), notice=SiteNotice("Upgrading the database until 04:00 UTC.", planned=True))
    assert shown_block(page) == "planned"
    assert page.by_id("message").text == "Upgrading the database until 04:00 UTC."


def test_recent_outages_are_listed_newest_first_with_durations() -> None:
    transitions = [transition("ALARM", 0), transition("OK", 7), transition("ALARM", 30)]
    rows = [
        [cell.text for cell in row.find_all("td")] for row in render(*transitions).find_all("tbody")[0].find_all("tr")
    ]
    assert rows == [["2026-11-21 02:44 UTC", "ongoing"], ["2026-11-21 02:14 UTC", "7 min"]]


def test_hostile_alarm_and_operator_text_never_becomes_markup() -> None:
    page = render(
        transition("ALARM", 0, reason=HOSTILE, description=HOSTILE),
        notice=SiteNotice(HOSTILE),
        settings=PageSettings(site_name=HOSTILE, default_message=HOSTILE, contact_url="https://example.com/help"),
    )
    scripts = page.find_all("script")
    assert [s.attrs.get("id") for s in scripts] == ["status-data", None]  # only the page's own two
    assert page.find_all("img") == []
    assert not any(name.startswith("on") for e in page.iter() for name in e.attrs)
    assert [a.attrs["href"] for a in page.find_all("a")] == ["https://example.com/help"]
    # ...and each hostile value is there, whole, as text
    assert page.by_id("message").text == HOSTILE
    assert page.by_id("detail").text == f"{HOSTILE} {HOSTILE}"
    assert page.find_all("title")[0].text == f"{HOSTILE}: temporarily unavailable"
    assert json.loads(scripts[0].text)["message"] == HOSTILE


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "http://example.com", "//evil"])
def test_a_contact_link_must_be_https_or_mailto(url: str) -> None:
    with pytest.raises(PageSettingsError, match="must start with https:// or mailto:"):
        PageSettings(site_name="Shop", default_message="m", contact_url=url)


def test_no_contact_link_means_no_contact_section() -> None:
    page = render(transition("ALARM", 0), settings=PageSettings("Shop", "m"))
    assert page.find_all("a") == []


def test_the_page_makes_no_external_request() -> None:
    page = render(transition("ALARM", 0))
    loaders = [e for e in page.iter() if e.tag in ("img", "iframe", "object", "embed", "source", "video")]
    assert loaders == []
    # the one link is the inline favicon that stops browsers asking the domain for /favicon.ico
    assert [(e.attrs["rel"], e.attrs["href"]) for e in page.find_all("link")] == [("icon", "data:,")]
    assert not any("src" in e.attrs for e in page.iter())
    style = "".join(s.text for s in page.find_all("style"))
    assert "url(" not in style
    assert "@import" not in style
    script = page.find_all("script")[1].text
    assert re.findall(r"fetch\(([^,)]*)", script) == ['"/status.json"']  # absolute: any other path is the page
    assert "XMLHttpRequest" not in script
    assert "import(" not in script


def test_the_page_is_accessible_without_script() -> None:
    page = render(transition("ALARM", 0))
    assert page.find_all("html")[0].attrs["lang"] == "en"
    assert [h.text for h in page.visible() if h.tag == "h1"] == ["We\u2019ll be right back"]  # one per state
    assert [h.text for h in page.find_all("h2")][:3] == ["When", "Latest update", "What happens next"]
    assert any(m.attrs.get("name") == "viewport" for m in page.find_all("meta"))
    assert "Reload this page" in page.find_all("noscript")[0].text
    style = page.find_all("style")[0].text
    assert "prefers-color-scheme:dark" in style
    assert "prefers-reduced-motion:reduce" in style
    assert page.by_id("message").attrs["aria-live"] == "polite"


@pytest.mark.parametrize("char", ["x", "<", "&", "\U0001f600"])  # escaping and UTF-8 make some costlier
def test_the_largest_page_stays_under_20_kb(char: str) -> None:
    message = char * MAX_MESSAGE_CHARS  # the longest notice, and the longest DefaultMessage parameter
    history = [FailoverWindow("s", at(-60 * i), at(-60 * i + 5)) for i in range(5)]
    status = PageStatus(PageState.UNAVAILABLE, at(10), message, started_at=at(0), detail=char * MAX_DETAIL_CHARS)
    settings = PageSettings(site_name=char * 60, default_message=message, contact_url="https://" + "&" * 150)
    assert len(render_page(status, history, settings).encode()) <= MAX_PAGE_BYTES


def test_status_json_is_compact_json() -> None:
    status = PageStatus(PageState.UNAVAILABLE, at(1), HOSTILE, started_at=at(0))
    assert json.loads(render_status(status)) == status.to_json()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "under a minute"),
        (59.9, "under a minute"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h 0 min"),
        (timedelta(hours=47, minutes=59).total_seconds(), "47 h 59 min"),
        (timedelta(days=3).total_seconds(), "3 days"),
    ],
)
def test_durations_read_like_a_person_wrote_them(seconds: float, text: str) -> None:
    assert duration(seconds) == text
