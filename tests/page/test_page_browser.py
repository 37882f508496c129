"""The maintenance page in a real browser: Debian's headless Chromium, driven by playwright.

The page is served on loopback the way CloudFront serves it (every path is the page, as 503;
/status.json is the status). The browser's clock is playwright's fake clock, so the test can move
time forward to the page's next poll without waiting for it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from detour.incidents.updates import RESOLVED_FOR, Source, Stage
from detour.incidents.windows import FailoverWindow
from detour.page.render import render_page
from detour.page.status import PageState, PageStatus, PageUpdate
from tests.support.page import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("DETOUR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-output"
STARTED = datetime(2026, 11, 21, 2, 14, 27, tzinfo=UTC)
NOW = STARTED + timedelta(minutes=42)  # the browser's clock when the page loads


def posted(stage: Stage, minutes: float, message: str, source: Source = Source.SLACK) -> PageUpdate:
    return PageUpdate(stage, message, STARTED + timedelta(minutes=minutes), source)


TIMELINE = (
    posted(Stage.MONITORING, 38, "A fix is deployed; we are watching payments recover."),
    posted(Stage.IDENTIFIED, 21, "Our payment provider is down. Orders placed before 02:10 UTC are safe."),
    posted(
        Stage.INVESTIGATING,
        0,
        "The site is failing its health checks: visitors are sent to this page.",
        Source.ALARM,
    ),
)
OUTAGE = PageStatus(
    PageState.UNAVAILABLE,
    updated_at=TIMELINE[0].posted_at,
    message=TIMELINE[0].message,
    started_at=STARTED,
    updates=TIMELINE,
    earlier_updates=2,
)
RESOLVED_AT = NOW + timedelta(seconds=30)
RESOLVED = PageStatus(
    PageState.RESOLVED,
    updated_at=RESOLVED_AT,
    message="The service is working again.",
    started_at=STARTED,
    resolved_at=RESOLVED_AT,
    updates=(posted(Stage.RESOLVED, 42.5, "The site answers its health checks again.", Source.ALARM), *TIMELINE),
)
# What the server publishes RESOLVED_FOR after the OK: the neutral page, no news.
EXPIRED = PageStatus(PageState.UNAVAILABLE, updated_at=RESOLVED_AT + RESOLVED_FOR, message="We are working on it.")
HISTORY = [
    FailoverWindow("s", STARTED),
    FailoverWindow("s", STARTED - timedelta(days=3), STARTED - timedelta(days=3) + timedelta(minutes=7)),
    FailoverWindow("s", STARTED - timedelta(days=9), STARTED - timedelta(days=9) + timedelta(hours=1, minutes=4)),
]


@dataclass
class FakeEdge:
    """CloudFront as the edge functions make it: /status.json is itself, every other path the page."""

    page: str
    status: dict[str, Any]
    status_code: int = 200
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def status_requests(self) -> list[str]:
        """Everything the page itself asked for after loading."""
        return [path for path in self.requests if path not in ("/", "/checkout/cart")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser test needs Debian's chromium. Run `make chromium` "
            "(apt-get install -y chromium, as root) or set DETOUR_CHROMIUM to a Chromium binary."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def edge() -> Iterator[FakeEdge]:
    site = FakeEdge(page=render_page(OUTAGE, HISTORY, SETTINGS), status=OUTAGE.to_json())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            if self.path == "/status.json":
                body, code, kind = json.dumps(site.status).encode(), site.status_code, "application/json"
            else:
                body, code, kind = site.page.encode(), 503, "text/html; charset=utf-8"
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site.url = f"http://127.0.0.1:{server.server_port}"
    yield site
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        timezone_id="America/New_York", locale="en-US", viewport={"width": 800, "height": 1100}
    )
    page = context.new_page()
    page.clock.install(time=NOW)
    yield page
    context.close()


def requests_settle(edge: FakeEdge) -> list[str]:
    """The status requests, once in-flight fetches (real network, fake clock) have had time to land."""
    time.sleep(0.5)
    return edge.status_requests()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    if name == "outage" and os.environ.get("DETOUR_UPDATE_SCREENSHOT") == "1":  # make screenshot
        page.screenshot(path=ROOT / "docs" / "maintenance-page.png", full_page=True)


def test_the_page_shows_the_outage_then_says_when_the_service_is_back(page: Page, edge: FakeEdge) -> None:
    answer = page.goto(f"{edge.url}/checkout/cart")  # a deep link: the page, as CloudFront serves it
    assert answer is not None
    assert answer.status == 503

    expect(page.locator("h1:visible")).to_have_text("We\u2019ll be right back")
    expect(page.locator("#since")).to_have_text("2026-11-21 02:14 UTC (your time: Nov 20, 2026, 9:14\u202fPM)")
    expect(page.locator("#duration")).to_have_text("42 min so far")
    expect(page.locator("#message")).to_have_text(OUTAGE.message)
    expect(page.locator("#updated")).to_have_text("2026-11-21 02:52 UTC (your time: Nov 20, 2026, 9:52\u202fPM)")
    expect(page.locator("#timeline li")).to_have_count(3)
    expect(page.locator("#timeline li").first).to_have_text(
        "Monitoring 2026-11-21 02:52 UTC (your time: Nov 20, 2026, 9:52\u202fPM)" + TIMELINE[0].message
    )
    expect(page.locator("#earlier")).to_have_text("2 earlier updates not shown")
    expect(page.locator("#next")).to_be_visible()  # the script runs: "updates itself" is true
    expect(page.locator("#reload")).to_be_hidden()
    expect(page.locator("#announce")).to_have_text("")  # nothing to announce until the state changes
    screenshot(page, "outage")

    page.clock.run_for(10_000)
    assert edge.status_requests() == []  # no poll before 15 s

    edge.status = RESOLVED.to_json()
    page.clock.run_for(15_000)  # 25 s: the first poll (every 20 s, +-10 % jitter) has gone out
    expect(page.locator("h1:visible")).to_have_text("We\u2019re back")
    expect(page.locator("[data-show=resolved]")).to_contain_text("up to a minute")
    expect(page.locator("[data-show=resolved]")).to_contain_text("Restored at 2026-11-21 02:56 UTC")
    expect(page.locator("#reload")).to_be_visible()
    expect(page.locator("#message")).to_have_text(RESOLVED.message)
    expect(page.locator("#duration")).to_have_text("42 min")
    expect(page.locator("#resolved")).to_contain_text("2026-11-21 02:56 UTC")
    expect(page.locator("tbody tr").first.locator("td").last).to_have_text("42 min")  # was "ongoing"
    expect(page.locator("#timeline li")).to_have_count(4)
    expect(page.locator("#timeline li .stage").first).to_have_text("Resolved")
    # the live region's text changed: screen readers are told the service is back
    expect(page.locator("#announce")).to_contain_text("We\u2019re back. Restored at 2026-11-21 02:56 UTC")
    assert page.title() == "Example Shop: service restored"
    assert edge.status_requests() == ["/status.json"]  # absolute: never /checkout/status.json
    screenshot(page, "resolved")


def test_an_older_status_never_replaces_what_the_page_says(page: Page, edge: FakeEdge) -> None:
    """A stale status.json (a lagging cache, an upload that failed after the page's) is ignored."""
    stale = PageStatus(
        PageState.RESOLVED,
        updated_at=STARTED - timedelta(days=1),  # older than the page's own status
        message="Yesterday's news",
        started_at=STARTED - timedelta(days=1, minutes=30),
        resolved_at=STARTED - timedelta(days=1),
    )
    edge.status = stale.to_json()
    page.goto(edge.url)
    page.clock.run_for(25_000)
    assert requests_settle(edge) == ["/status.json"]  # it was fetched...
    expect(page.locator("#message")).to_have_text(OUTAGE.message)  # ...and not shown
    expect(page.locator("h1:visible")).to_have_text("We\u2019ll be right back")


def test_a_failing_status_backs_off_and_the_page_stays_up(page: Page, edge: FakeEdge) -> None:
    edge.status_code = 500
    page.goto(edge.url)
    page.clock.run_for(25_000)
    assert requests_settle(edge) == ["/status.json"]

    page.clock.run_for(25_000)  # 50 s in: a steady poller would have asked again; backoff waits ~40 s
    assert len(requests_settle(edge)) == 1
    page.clock.run_for(20_000)  # 70 s in
    assert len(requests_settle(edge)) == 2
    expect(page.locator("h1:visible")).to_have_text("We\u2019ll be right back")


def test_without_javascript_the_page_still_says_everything(browser: Browser, edge: FakeEdge) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(edge.url)
    expect(page.locator("h1:visible")).to_have_text("We\u2019ll be right back")
    expect(page.locator("#since")).to_have_text("2026-11-21 02:14 UTC")
    expect(page.locator("noscript p")).to_be_visible()
    expect(page.locator("#next")).to_be_hidden()  # it would promise updates that cannot happen
    context.close()
    assert edge.status_requests() == []


def loaded_at(browser: Browser, edge: FakeEdge, moment: datetime, **options: Any) -> tuple[Page, Any]:
    context = browser.new_context(timezone_id="UTC", locale="en-US", **options)
    page = context.new_page()
    page.clock.install(time=moment)
    page.goto(edge.url)
    return page, context


def test_a_resolution_past_resolved_for_when_the_page_loads_reads_as_a_new_problem(
    browser: Browser, edge: FakeEdge
) -> None:
    """The page is only reachable during failover: a resolution older than RESOLVED_FOR when a
    visitor arrives (the server's sweep not yet through) means a new problem the alarm has not
    reported yet, so "we're back" would be wrong."""
    edge.page, edge.status = render_page(RESOLVED, HISTORY, SETTINGS), RESOLVED.to_json()
    page, context = loaded_at(browser, edge, RESOLVED_AT + RESOLVED_FOR + timedelta(minutes=1))
    expect(page.locator("h1:visible")).to_have_text("Temporarily unavailable")
    expect(page.locator("#since")).to_have_text("a few minutes ago; details follow shortly")
    expect(page.locator("#reload")).to_be_hidden()
    expect(page.locator("#updates")).to_be_hidden()  # the old incident's timeline is not this problem's
    assert page.title() == "Example Shop: temporarily unavailable"
    context.close()


def test_a_tab_left_open_on_the_resolved_page_keeps_saying_so(browser: Browser, edge: FakeEdge) -> None:
    """Judged once, against the load time: a tab opened a minute after the recovery still says
    "we're back" (and offers the reload) an hour later, even once the server has turned neutral."""
    edge.page, edge.status = render_page(RESOLVED, HISTORY, SETTINGS), RESOLVED.to_json()
    page, context = loaded_at(browser, edge, RESOLVED_AT + timedelta(minutes=1))
    expect(page.locator("h1:visible")).to_have_text("We\u2019re back")
    page.clock.run_for(int(RESOLVED_FOR.total_seconds() * 1000) + 6 * 60_000)  # ticks and polls of the same status
    expect(page.locator("h1:visible")).to_have_text("We\u2019re back")

    edge.status = EXPIRED.to_json()  # the sweep's neutral page: not news of a new problem
    asked = len(requests_settle(edge))
    page.clock.run_for(60_000)
    requests_settle(edge)
    page.clock.run_for(60_000)
    assert len(requests_settle(edge)) > asked  # it was fetched...
    expect(page.locator("h1:visible")).to_have_text("We\u2019re back")
    expect(page.locator("#reload")).to_be_visible()  # ...and the tab still says what it said
    assert page.title() == "Example Shop: service restored"

    news = PageStatus(
        PageState.UNAVAILABLE,
        updated_at=RESOLVED_AT + timedelta(minutes=70),
        message="Errors again; looking into it.",
        updates=(posted(Stage.INVESTIGATING, 112, "Errors again; looking into it."),),
    )
    edge.status = news.to_json()  # news after the recovery: a new problem, said so
    page.clock.run_for(60_000)
    requests_settle(edge)
    page.clock.run_for(60_000)
    expect(page.locator("h1:visible")).to_have_text("Temporarily unavailable")
    expect(page.locator("#message")).to_have_text("Errors again; looking into it.")
    expect(page.locator("#timeline li")).to_have_count(1)
    expect(page.locator("#announce")).to_contain_text("Temporarily unavailable.")
    context.close()


def test_the_reload_link_works_without_javascript(browser: Browser, edge: FakeEdge) -> None:
    edge.page, edge.status = render_page(RESOLVED, HISTORY, SETTINGS), RESOLVED.to_json()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{edge.url}/checkout/cart")
    expect(page.locator("#reload")).to_be_visible()
    page.locator("#reload").click()
    page.wait_for_load_state()
    assert edge.requests == ["/checkout/cart", "/checkout/cart"]  # the same address, loaded again
    context.close()


def test_on_a_phone_nothing_scrolls_sideways_even_with_a_long_url_in_a_message(
    browser: Browser, edge: FakeEdge
) -> None:
    url = "https://status.example.com/incidents/" + "0123456789abcdef" * 12
    status = PageStatus(
        PageState.UNAVAILABLE,
        updated_at=NOW,
        message=f"Details: {url}",
        started_at=STARTED,
        updates=(posted(Stage.IDENTIFIED, 20, f"See {url} and " + "Donaudampfschifffahrtsgesellschaft" * 4),),
    )
    edge.page, edge.status = render_page(status, HISTORY, SETTINGS), status.to_json()
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.goto(edge.url)
    expect(page.locator("#timeline li")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "outage-phone")
    context.close()
