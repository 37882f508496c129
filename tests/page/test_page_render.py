"""The rendered page: what a reader sees in each state, that nothing from an alarm or operator
becomes markup, that it makes no external request, stays small and accessible. Asserted on the
parsed document."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from detour.incidents.notices import MAX_MESSAGE_CHARS, SiteNotice
from detour.incidents.updates import MAX_MESSAGE_CHARS as MAX_UPDATE_CHARS
from detour.incidents.updates import RESOLVED_FOR
from detour.incidents.windows import FailoverWindow
from detour.page.render import (
    MAX_PAGE_BYTES,
    MAX_UPDATES,
    MIN_UPDATES_SHOWN,
    PageSettings,
    PageSettingsError,
    duration,
    render,
    render_page,
    render_status,
)
from detour.page.status import MAX_DETAIL_CHARS, RESTORED_MESSAGE, PageStatus, SiteHistory, page_status, with_cause
from detour.signals.states import SignalReading, SignalState
from tests.support.html import Element, parse_html
from tests.support.page import HOSTILE, SETTINGS, at, timeline, transition, update

RESOLVED_MINUTES = RESOLVED_FOR.total_seconds() / 60
# What a Slack user may type, as Slack sends it: mentions and links are markup there, text here.
SLACK_HOSTILE = "<!channel> <@U123ABC> see <https://evil.example/x|here> & <script>alert(1)</script>"
LONG_WORD = "https://example.com/" + "a" * 300


def render_doc(*transitions, notice=None, settings=SETTINGS, now_minutes: float = 42, news=None) -> Element:  # type: ignore[no-untyped-def]
    history = SiteHistory.of(transitions)
    status = page_status(history, notice, settings.default_message, at(now_minutes), news)
    return parse_html(render(status, history.recent_windows(5), settings).page)


def shown_block(page: Element) -> str:
    (shown,) = [e.attrs["data-show"] for e in page.iter() if "data-show" in e.attrs and "hidden" not in e.attrs]
    return str(shown)


def visible(page: Element) -> str:
    return page.find_all("main")[0].visible_text()


def title(page: Element) -> str:
    return page.find_all("title")[0].text


def test_an_outage_page_says_who_what_since_when_and_what_next() -> None:
    page = render_doc(transition("ALARM", 0))
    assert shown_block(page) == "unavailable"
    assert title(page) == "Example Shop: temporarily unavailable"
    assert page.find_all("main")[0].find_all("p")[0].text == "Example Shop"
    assert page.by_id("since").visible_text() == "2026-11-21 02:14 UTC"
    assert page.by_id("since").find_all("time")[0].attrs["datetime"] == "2026-11-21T02:14:27.123Z"
    assert page.by_id("duration").text == "ongoing"  # the script counts it live; the HTML never goes stale
    assert page.by_id("message").text == SETTINGS.default_message
    assert page.by_id("updated-line").visible_text() == "Updated 2026-11-21 02:14 UTC"  # labelled with its zone
    assert "updates itself" in page.by_id("next").text
    assert "when it is back, this page will say so" in visible(page)
    contact = page.by_id("contact")
    assert (contact.attrs["href"], contact.text) == ("mailto:support@example.com", "support@example.com")


def test_a_resolved_page_says_when_it_was_restored_and_offers_a_reload_link() -> None:
    page = render_doc(
        transition("ALARM", 0), transition("OK", 75, description="the primary is failing"), now_minutes=76
    )
    assert shown_block(page) == "resolved"
    assert title(page) == "Example Shop: service restored"
    text = visible(page)
    assert "Restored at 2026-11-21 03:29 UTC" in text
    assert "Still seeing this page minutes later? A new problem has started; this page will say more shortly." in text
    reload = page.by_id("reload")
    assert (reload.tag, reload.attrs["href"]) == ("a", "")  # a link: reloads without JavaScript
    assert page.by_id("duration").text == "1 h 15 min"
    assert page.by_id("resolved").visible_text() == "2026-11-21 03:29 UTC"
    # its own words only: not the outage's
    assert page.by_id("message").text == RESTORED_MESSAGE
    assert SETTINGS.default_message not in text
    assert "when it is back" not in text
    assert "failing" not in text
    assert "failing" not in page.find_all("details")[0].text


def test_a_resolution_past_resolved_for_is_published_as_the_neutral_page() -> None:
    page = render_doc(transition("ALARM", 0), transition("OK", 75), now_minutes=75 + RESOLVED_MINUTES + 1)
    assert shown_block(page) == "neutral"
    assert title(page) == "Example Shop: temporarily unavailable"
    assert page.by_id("since").text == "a few minutes ago; details follow shortly"
    assert page.by_id("duration").text == "not known yet"
    text = visible(page)
    assert "Details follow shortly" in text
    assert "We\u2019re back" not in text
    assert "Restored" not in text
    assert page.find_all("details") == []  # the old recovery's details would describe the wrong event
    assert page.by_id("updated-line").visible_text() == "Updated 2026-11-21 03:39 UTC"


def test_missing_health_data_is_the_neutral_page() -> None:
    page = render_doc(transition("ALARM", 0), transition("OK", 3), transition("INSUFFICIENT_DATA", 20), now_minutes=21)
    assert shown_block(page) == "neutral"
    assert "failing" not in visible(page)


def test_before_any_alarm_the_page_is_neutral_and_says_no_time() -> None:
    page = render_doc()
    assert shown_block(page) == "neutral"
    assert "hidden" in page.by_id("updated-line").attrs
    assert "hidden" in page.by_id("updates").attrs


def test_planned_maintenance_shows_its_own_heading_its_expected_end_and_is_no_outage() -> None:
    notice = SiteNotice("Upgrading the database.", planned=True, until=at(120))
    history = SiteHistory(
        latest=transition("ALARM", 0),
        recent=[FailoverWindow("s", at(0), planned=True), FailoverWindow("s", at(-600), at(-590))],
    )
    status = page_status(history, notice, SETTINGS.default_message, at(10))
    page = parse_html(render(status, history.recent_windows(5), SETTINGS).page)
    assert shown_block(page) == "planned"
    assert page.by_id("message").text == "Upgrading the database."
    assert page.by_id("until-line").visible_text() == "Expected back by 2026-11-21 04:14 UTC ."
    rows = [[td.text for td in row.find_all("td")] for row in page.find_all("tbody")[0].find_all("tr")]
    assert rows == [["2026-11-20 16:14 UTC", "10 min"]]  # the maintenance window is not an outage


def test_planned_maintenance_without_an_end_does_not_promise_one() -> None:
    page = render_doc(transition("ALARM", 0), notice=SiteNotice("Upgrading.", planned=True))
    assert "hidden" in page.by_id("until-line").attrs


def test_recent_outages_are_listed_newest_first_with_durations() -> None:
    transitions = [transition("ALARM", 0), transition("OK", 7), transition("ALARM", 30)]
    rows = [
        [cell.text for cell in row.find_all("td")]
        for row in render_doc(*transitions).find_all("tbody")[0].find_all("tr")
    ]
    assert rows == [["2026-11-21 02:44 UTC", "ongoing"], ["2026-11-21 02:14 UTC", "7 min"]]


def test_the_timeline_is_newest_first_with_stage_badges_and_utc_times() -> None:
    news = timeline(
        update("investigating", 0, "The site stopped answering its health checks.", source="alarm"),
        update("identified", 6, "A bad deploy; rolling it back."),
        update("monitoring", 11, "Rolled back; watching."),
    )
    page = render_doc(transition("ALARM", 0), news=news)
    entries = page.by_id("timeline").find_all("li")
    assert [e.find_all("span")[0].text for e in entries] == ["Monitoring", "Identified", "Investigating"]
    assert next(e.find_all("span")[0].attrs["data-stage"] for e in entries) == "monitoring"
    assert [e.find_all("time")[0].text for e in entries] == [
        "2026-11-21 02:25 UTC",
        "2026-11-21 02:20 UTC",
        "2026-11-21 02:14 UTC",
    ]
    assert [e.find_all("p")[0].attrs["dir"] for e in entries] == ["auto"] * 3
    assert page.by_id("message").text == "Rolled back; watching."
    assert page.by_id("updated-line").visible_text() == "Updated 2026-11-21 02:25 UTC"
    assert "hidden" in page.by_id("earlier").attrs


@pytest.mark.parametrize(("earlier", "text"), [(1, "1 earlier update not shown"), (7, "7 earlier updates not shown")])
def test_a_capped_timeline_says_how_many_earlier_updates_are_not_shown(earlier: int, text: str) -> None:
    page = render_doc(transition("ALARM", 0), news=timeline(update("identified", 6), earlier=earlier))
    assert page.by_id("earlier").visible_text() == text
    assert json.loads(page.by_id("status-data").text)["earlier_updates"] == earlier


@pytest.mark.parametrize("message", [HOSTILE, SLACK_HOSTILE, LONG_WORD, "x" * 40 + "\u202e" + "مرحبا"])
def test_hostile_update_text_ends_as_text(message: str) -> None:
    page = render_doc(transition("ALARM", 0), news=timeline(update("identified", 6, message[:MAX_UPDATE_CHARS])))
    assert page.by_id("message").text == message[:MAX_UPDATE_CHARS]
    assert page.by_id("timeline").find_all("p")[0].text == message[:MAX_UPDATE_CHARS]
    assert page.find_all("img") == []
    assert len(page.find_all("script")) == 2
    assert [a.attrs["href"] for a in page.find_all("a")] == ["", "mailto:support@example.com"]
    assert not any(name.startswith("on") for e in page.iter() for name in e.attrs)


def test_hostile_alarm_and_operator_text_never_becomes_markup() -> None:
    page = render_doc(
        transition("ALARM", 0, reason=HOSTILE, description=HOSTILE),
        notice=SiteNotice(HOSTILE),
        settings=PageSettings(site_name=HOSTILE, default_message=HOSTILE, contact_url="https://example.com/help"),
    )
    scripts = page.find_all("script")
    assert [s.attrs.get("id") for s in scripts] == ["status-data", None]  # only the page's own two
    assert page.find_all("img") == []
    assert not any(name.startswith("on") for e in page.iter() for name in e.attrs)
    assert [a.attrs["href"] for a in page.find_all("a")] == ["", "https://example.com/help"]
    # ...and each hostile value is there, whole, as text
    assert page.by_id("message").text == HOSTILE
    assert page.by_id("detail").text == HOSTILE
    assert title(page) == f"{HOSTILE}: temporarily unavailable"
    assert "message" not in json.loads(scripts[0].text)  # the HTML carries the texts


def test_the_cause_is_text_in_the_details_and_names_only_the_failing_checks_in_status_json() -> None:
    history = SiteHistory.of([transition("ALARM", 0, reason="Threshold Crossed")])
    reading = SignalReading(
        at(0),
        (
            SignalState("endpoint probe", "endpoint", True, "passing from all 8 checker regions"),
            SignalState(
                "5xx rate", "error-rate", False, "ALARM: " + SLACK_HOSTILE, "detour/detour-site-www/error-rate"
            ),
        ),
    )
    status = with_cause(page_status(history, None, SETTINGS.default_message, at(3)), reading)
    rendered = render(status, history.recent_windows(5), SETTINGS)
    page = parse_html(rendered.page)
    # instead of the health alarm's reason ("Threshold Crossed"), which says less, in the same budget
    assert page.by_id("cause").text == f"Failed over on: 5xx rate: ALARM: {SLACK_HOSTILE}"
    assert [p for p in page.find_all("p") if p.attrs.get("id") == "detail"] == []
    assert [s.attrs.get("id") for s in page.find_all("script")] == ["status-data", None]
    assert json.loads(rendered.status_json)["failed_checks"] == ["5xx rate"]
    assert "failed_checks" not in json.loads(page.by_id("status-data").text)  # the HTML says it


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "http://example.com", "//evil"])
def test_a_contact_link_must_be_https_or_mailto(url: str) -> None:
    with pytest.raises(PageSettingsError, match="must start with https:// or mailto:"):
        PageSettings(site_name="Shop", default_message="m", contact_url=url)


def test_no_contact_link_means_no_contact_section() -> None:
    page = render_doc(transition("ALARM", 0), settings=PageSettings("Shop", "m"))
    assert [a.attrs["id"] for a in page.find_all("a")] == ["reload"]


def test_the_page_makes_no_external_request() -> None:
    page = render_doc(transition("ALARM", 0))
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
    page = render_doc(transition("ALARM", 0))
    assert page.find_all("html")[0].attrs["lang"] == "en"
    assert [h.text for h in page.visible() if h.tag == "h1"] == ["We\u2019ll be right back"]  # one per state
    assert [h.text for h in page.find_all("h2")][:4] == ["When", "Latest update", "Timeline", "What happens next"]
    assert any(m.attrs.get("name") == "viewport" for m in page.find_all("meta"))
    assert "Reload this page" in page.find_all("noscript")[0].text
    style = page.find_all("style")[0].text
    assert "prefers-color-scheme:dark" in style
    assert "prefers-reduced-motion:reduce" in style
    assert "overflow-wrap:anywhere" in style  # a 375 px screen and a long URL
    assert page.by_id("message").attrs["aria-live"] == "polite"
    assert page.by_id("message").attrs["dir"] == "auto"  # right-to-left messages
    announce = page.by_id("announce")  # screen readers hear each change of state
    assert (announce.attrs["role"], announce.attrs["aria-live"]) == ("status", "polite")


def test_the_script_judges_a_resolution_against_resolved_for() -> None:
    script = render_page(page_status(SiteHistory.of([]), None, "m", at(0)), [], SETTINGS)
    assert f"RESOLVED_FOR = {int(RESOLVED_FOR.total_seconds())} * 1000" in script
    assert "LOADED - Date.parse(s.resolved_at)" in script  # the load time, never the time of each tick


def worst_case(char: str) -> tuple[PageStatus, list[FailoverWindow], PageSettings]:
    """Everything at its longest in one character: MAX_UPDATES updates of the longest message, the
    newest of them the "Latest update" too, the longest alarm reason, site name (60, the stack
    parameter's limit) and contact URL (150 after the scheme), five outages, planned with an end."""
    text = char * MAX_UPDATE_CHARS
    news = timeline(*(update("identified", 60 - i, text, author=f"U{i}") for i in range(MAX_UPDATES)), earlier=999)
    settings = PageSettings(char * 60, char * MAX_MESSAGE_CHARS, "https://" + "&" * 150)
    history = SiteHistory(
        latest=transition("ALARM", 0, reason=char * MAX_DETAIL_CHARS),
        recent=[
            FailoverWindow("s", at(0)),
            *(FailoverWindow("s", at(-600 * i), at(-600 * i + 5)) for i in range(1, 5)),
        ],
    )
    notice = SiteNotice(char * MAX_MESSAGE_CHARS, planned=False, until=at(600))
    status = page_status(history, notice, settings.default_message, at(61), news)
    # the longest cause: every signal failing (CloudWatch's longest alarm names), its text cut
    failing = (
        SignalState("endpoint probe", "endpoint", False, char * 300),
        *(SignalState(char * 255, "alarm", False, char * 300, char * 255) for _ in range(3)),
        SignalState("5xx rate", "error-rate", False, char * 300),
    )
    status = with_cause(status, SignalReading(at(0), failing))
    return status, history.recent_windows(5), settings


# escaping and UTF-8 make some characters costlier: & " ' are 5 bytes in HTML, < > 4, an emoji 4
@pytest.mark.parametrize("char", ["x", "<", "&", '"', "'", "\U0001f600", "\u05d0"])
def test_the_largest_page_stays_under_20_kb_and_shows_the_newest_updates_that_fit(char: str) -> None:
    status, history, settings = worst_case(char)
    rendered = render(status, history, settings)
    assert len(rendered.page.encode()) <= MAX_PAGE_BYTES
    shown = rendered.status.updates
    assert len(shown) >= MIN_UPDATES_SHOWN
    assert list(shown) == list(status.updates[: len(shown)])  # the newest ones, in order
    assert rendered.status.earlier_updates == 999 + MAX_UPDATES - len(shown)
    # status.json describes exactly the page
    assert json.loads(rendered.status_json)["updates"] == [u.to_json() for u in shown]
    page = parse_html(rendered.page)
    assert len(page.by_id("timeline").find_all("li")) == len(shown)
    assert page.by_id("earlier").text == f"{rendered.status.earlier_updates} earlier updates not shown"


def test_a_typical_incident_shows_all_its_updates() -> None:
    words = "We found the cause: a configuration change to the payment gateway. Rolling it back now. " * 3
    news = timeline(*(update("identified", i, words[:250]) for i in range(MAX_UPDATES)))
    history = SiteHistory.of([transition("ALARM", 0)])
    status = page_status(history, SiteNotice("x" * MAX_MESSAGE_CHARS), SETTINGS.default_message, at(30), news)
    rendered = render(status, history.recent_windows(5), SETTINGS)
    assert (len(rendered.status.updates), rendered.status.earlier_updates) == (MAX_UPDATES, 0)


def test_status_json_is_compact_json() -> None:
    status = page_status(
        SiteHistory.of([transition("ALARM", 0)]), None, HOSTILE, at(1), timeline(update("identified", 1))
    )
    assert json.loads(render_status(status)) == status.to_json()
    assert b" " not in render_status(status).replace(b"We found the cause.", b"")


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
