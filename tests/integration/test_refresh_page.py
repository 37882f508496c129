"""functions/refresh_page end to end: an SNS alarm event, a direct refresh or the schedule in; the
page and status.json in S3 and the CloudFront invalidation out, all on moto's server. The
function's clock is the test's (`clock`), so a resolution can be made old news."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from detour.incidents.alarm_message import InvalidAlarmMessage, parse_sns_event
from detour.incidents.notices import NoticeBoard, SiteNotice
from detour.incidents.sites import UnregisteredSite
from detour.incidents.updates import RESOLVED_FOR, UpdateLog
from detour.page.publisher import PagePublisher, PagePublishError
from detour.page.refresh import InvalidRefreshRequest
from detour_cli.local.lambda_runtime import LambdaContext
from tests.conftest import emitted_metrics, log_records
from tests.support.aws import store_for
from tests.support.events import SITE_ID, sns_event, transition_event
from tests.support.functions import load_function
from tests.support.html import parse_html
from tests.support.page import HOSTILE, T0, at, update
from tests.support.page_aws import (
    create_distribution,
    get_object,
    invalidated_paths,
    object_versions,
)
from tests.support.sites import register_site

PREFIX = f"sites/{SITE_ID}/"  # the site's place in the hub's page bucket
EVENTS = Path(__file__).resolve().parents[2] / "events"
RESOLVED_MINUTES = RESOLVED_FOR.total_seconds() / 60
SCHEDULED = json.loads((EVENTS / "scheduled.json").read_text())


class Clock:
    """The function's `datetime.now`, at minutes after T0 (17: just after the usual recovery)."""

    minutes: float = 17

    def __call__(self, minutes: float) -> None:
        self.minutes = minutes


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def refresh_page(
    function_env: Any, page_bucket: str, distribution: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    monkeypatch.setenv("PAGE_BUCKET", page_bucket)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "detour-RefreshPageFunction-TEST")
    register_site(function_env.name, distribution_id=distribution)
    module = load_function("refresh_page", monkeypatch)

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return at(clock.minutes).astimezone(tz or UTC)

    monkeypatch.setattr(module, "datetime", Frozen)
    return module


def invoke(module: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    return module.lambda_handler(event, LambdaContext(function_name="detour-RefreshPageFunction-TEST"))


def logged(function_env: Any, event: dict[str, Any]) -> dict[str, Any]:
    """What log_window does with the same event, beside refresh_page: record the transition."""
    store_for(function_env).record(parse_sns_event(event))
    return event


def site_versions(bucket: str) -> list[str]:
    """Every object version's key in the bucket, relative to the site's prefix: nothing may be outside it."""
    keys = object_versions(bucket)
    assert all(key.startswith(PREFIX) for key in keys), keys
    return [key.removeprefix(PREFIX) for key in keys]


def published_status(bucket: str) -> dict[str, Any]:
    return json.loads(get_object(bucket, PREFIX + "status.json")["Text"])


def test_an_alarm_publishes_the_page_and_its_status_then_invalidates_both(
    refresh_page: ModuleType, page_bucket: str, distribution: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = invoke(refresh_page, transition_event("ALARM", "OK", at(0)))

    page = get_object(page_bucket, PREFIX + "index.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert page["CacheControl"] == "public, max-age=0, s-maxage=300"
    status = get_object(page_bucket, PREFIX + "status.json")
    assert status["ContentType"] == "application/json; charset=utf-8"
    assert status["CacheControl"] == "no-store"
    alarm_entry = {
        "stage": "investigating",
        "message": "The site is failing its health checks: visitors are sent to this page.",
        "posted_at": "2026-11-21T02:14:27.123Z",
    }
    assert published_status(page_bucket) == {
        "state": "unavailable",
        "started_at": "2026-11-21T02:14:27.123Z",
        "updated_at": "2026-11-21T02:14:27.123Z",
        "resolved_at": None,
        "message": "We are working to restore the service.",
        "planned": False,
        "expected_end": None,
        "stage": "investigating",
        "updates": [alarm_entry],
        "earlier_updates": 0,
        "failed_checks": [],  # no health check to read here: tests/integration/test_failover_cause.py
    }
    document = parse_html(page["Text"])
    assert document.by_id("since").visible_text() == "2026-11-21 02:14 UTC"
    # self-contained: the embedded status is status.json, its texts in the HTML
    embedded = json.loads(document.by_id("status-data").text)
    without_texts = {k: v for k, v in published_status(page_bucket).items() if k not in ("message", "failed_checks")}
    assert embedded == without_texts | {"updates": [{"stage": "investigating", "posted_at": alarm_entry["posted_at"]}]}
    assert document.by_id("timeline").find_all("p")[0].text == alarm_entry["message"]
    assert invalidated_paths(distribution) == [["/index.html", "/status.json"]]
    assert result["page_state"] == "unavailable"
    assert emitted_metrics(capsys.readouterr().out) == {"PageRefreshed": [1]}


def test_recovery_says_resolved_and_lists_the_outage_with_its_duration(
    refresh_page: ModuleType, page_bucket: str, distribution: str, function_env: Any
) -> None:
    invoke(refresh_page, logged(function_env, transition_event("ALARM", "OK", at(0))))
    invoke(refresh_page, transition_event("OK", "ALARM", at(16.5)))  # before log_window recorded it

    status = published_status(page_bucket)
    assert (status["state"], status["started_at"], status["resolved_at"]) == (
        "resolved",
        "2026-11-21T02:14:27.123Z",
        "2026-11-21T02:30:57.123Z",
    )
    (body,) = parse_html(get_object(page_bucket, PREFIX + "index.html")["Text"]).find_all("tbody")
    assert [[td.text for td in row.find_all("td")] for row in body.find_all("tr")] == [
        ["2026-11-21 02:14 UTC", "16 min"]
    ]
    assert len(invalidated_paths(distribution)) == 2


def test_the_page_is_uploaded_before_the_status_that_describes_it(
    refresh_page: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = boto3.client("s3")
    uploads: list[str] = []

    class Recording:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def put_object(self, **kwargs: Any) -> Any:
            uploads.append(kwargs["Key"])
            return real.put_object(**kwargs)

    monkeypatch.setattr(refresh_page, "s3_client", Recording)
    invoke(refresh_page, transition_event("ALARM", "OK", at(0)))
    assert uploads == [PREFIX + "index.html", PREFIX + "status.json"]


def test_a_repeated_transition_is_published_once(refresh_page: ModuleType, distribution: str) -> None:
    invoke(refresh_page, transition_event("ALARM", "OK", at(0)))
    invoke(refresh_page, transition_event("ALARM", "OK", at(0)))  # a second publish of the same transition
    assert len(invalidated_paths(distribution)) == 1


def test_an_operators_notice_is_published_as_text(
    refresh_page: ModuleType, page_bucket: str, function_env: Any
) -> None:
    NoticeBoard(function_env.name, boto3.client("dynamodb")).post(SITE_ID, SiteNotice(HOSTILE, planned=True))
    invoke(refresh_page, transition_event("ALARM", "OK", at(0)))
    assert (published_status(page_bucket)["message"], published_status(page_bucket)["planned"]) == (HOSTILE, True)
    page = parse_html(get_object(page_bucket, PREFIX + "index.html")["Text"])
    assert page.by_id("message").text == HOSTILE
    assert page.find_all("img") == []


def test_an_expired_notice_gives_way_to_the_default_message(
    refresh_page: ModuleType, page_bucket: str, function_env: Any
) -> None:
    board = NoticeBoard(function_env.name, boto3.client("dynamodb"))
    board.post(SITE_ID, SiteNotice("Maintenance until 03:00", planned=True, until=T0 - timedelta(hours=1)))
    invoke(refresh_page, transition_event("ALARM", "OK", at(0)))  # the handler reads the notice at "now"
    assert published_status(page_bucket)["message"] == "We are working to restore the service."


def test_an_s3_failure_raises_a_clear_error_and_the_retry_publishes(
    refresh_page: ModuleType, page_bucket: str, distribution: str, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = boto3.client("s3")
    s3.delete_bucket(Bucket=page_bucket)
    event = transition_event("ALARM", "OK", at(0))
    with pytest.raises(
        PagePublishError, match=f"S3 bucket {page_bucket}: uploading {PREFIX}index.html failed: NoSuchBucket"
    ):
        invoke(refresh_page, event)
    assert any(r["level"] == "ERROR" for r in log_records(capsys.readouterr().out))
    assert invalidated_paths(distribution) == []

    s3.create_bucket(Bucket=page_bucket)
    invoke(refresh_page, event)  # the failed attempt was not remembered as done
    assert sorted(site_versions(page_bucket)) == ["index.html", "status.json"]


def test_a_cloudfront_failure_raises_a_clear_error(refresh_page: ModuleType, function_env: Any) -> None:
    register_site(function_env.name, distribution_id="EDOESNOTEXIST")
    with pytest.raises(PagePublishError, match=r"CloudFront distribution EDOESNOTEXIST: invalidating .* failed"):
        invoke(refresh_page, transition_event("ALARM", "OK", at(0)))


def test_a_malformed_event_fails_and_publishes_nothing(refresh_page: ModuleType, page_bucket: str) -> None:
    with pytest.raises(InvalidAlarmMessage):
        invoke(refresh_page, sns_event("{truncated"))
    assert site_versions(page_bucket) == []


def test_an_old_alarm_delivered_after_the_recovery_leaves_the_page_resolved(
    refresh_page: ModuleType, page_bucket: str, function_env: Any
) -> None:
    logged(function_env, transition_event("ALARM", "OK", at(0)))
    invoke(refresh_page, logged(function_env, transition_event("OK", "ALARM", at(9))))
    invoke(refresh_page, transition_event("ALARM", "OK", at(0), message_id="late-retry-of-the-alarm"))
    assert published_status(page_bucket)["state"] == "resolved"


def test_a_retried_alarm_cannot_undo_a_recovery_only_this_function_has_seen(
    refresh_page: ModuleType, page_bucket: str, function_env: Any
) -> None:
    """log_window's write of the OK failed (its event waits in its dead-letter queue), then the
    ALARM refresh_page once failed on is retried: the page must stay resolved."""
    invoke(refresh_page, transition_event("OK", "ALARM", at(9)))  # nobody else recorded this OK
    invoke(refresh_page, transition_event("ALARM", "OK", at(0), message_id="retry-of-a-failed-alarm"))
    assert published_status(page_bucket)["state"] == "resolved"
    assert [t.new_state for t in store_for(function_env).transitions(SITE_ID)] == ["ALARM", "OK"]


@pytest.mark.parametrize("name", ["alarm.json", "insufficient_data.json", "ok.json", "refresh.json", "scheduled.json"])
def test_each_event_file_publishes_a_page(name: str, refresh_page: ModuleType, page_bucket: str) -> None:
    """The files `sam local invoke RefreshPageFunction -e` users pass."""
    event = json.loads((EVENTS / name).read_text())
    result = invoke(refresh_page, event)
    expected = {
        "alarm.json": "unavailable",
        "insufficient_data.json": "unknown",
        "ok.json": "resolved",
        "refresh.json": "unavailable",  # nothing recorded yet: the neutral page
        "scheduled.json": "unavailable",
    }[name]
    page_state = result["pages"][SITE_ID]["page_state"] if name == "scheduled.json" else result["page_state"]
    assert page_state == published_status(page_bucket)["state"] == expected


def test_a_slow_refresh_of_the_alarm_cannot_put_its_older_page_over_the_recovery(
    page_bucket: str, distribution: str
) -> None:
    """Two refreshes race: the ALARM's reads the bucket, stalls, and the OK's publishes meanwhile.
    The stalled one's conditional write then fails, it reads again, sees a newer page, and stops."""
    from detour.page.publisher import PagePublisher  # noqa: PLC0415

    class StallsBeforeWriting:
        def __init__(self) -> None:
            self._s3 = boto3.client("s3")
            self.stalled = False

        def __getattr__(self, name: str) -> Any:
            return getattr(self._s3, name)

        def put_object(self, **request: Any) -> Any:
            if not self.stalled:  # the moment a slower Lambda spends between its read and its write
                self.stalled = True
                newer.publish("<p>resolved</p>", b'{"state":"resolved"}', order="000000000002|2026-11-21T02:09:00.000Z")
            return self._s3.put_object(**request)

    cloudfront = boto3.client("cloudfront")
    newer = PagePublisher(page_bucket, distribution, boto3.client("s3"), cloudfront, prefix=PREFIX)
    older = PagePublisher(page_bucket, distribution, StallsBeforeWriting(), cloudfront, prefix=PREFIX)

    published = older.publish(
        "<p>unavailable</p>", b'{"state":"unavailable"}', order="000000000001|2026-11-21T02:10:00.000Z"
    )

    assert published is False
    assert published_status(page_bucket) == {"state": "resolved"}
    assert get_object(page_bucket, PREFIX + "index.html")["Text"] == "<p>resolved</p>"
    assert (
        get_object(page_bucket, PREFIX + "status.json")["Metadata"]["detour-order"]
        == "000000000002|2026-11-21T02:09:00.000Z"
    )
    assert site_versions(page_bucket).count("status.json") == 1  # the older one never landed


# ---------------------------------------------------------------- posted updates and the schedule


def post(function_env: Any, *updates: Any) -> None:
    log = UpdateLog(function_env.name, boto3.client("dynamodb"))
    for posted in updates:
        log.post(posted)


def test_a_posted_update_is_on_the_page_when_refresh_is_asked_for_without_its_author(
    refresh_page: ModuleType, page_bucket: str, distribution: str, function_env: Any, clock: Clock
) -> None:
    clock(0.1)
    invoke(refresh_page, transition_event("ALARM", "OK", at(0)))
    post(function_env, update("identified", 6, "A bad deploy; rolling back. <@U123> <!channel>", author="U0SECRET"))
    clock(6.1)
    result = invoke(refresh_page, json.loads((EVENTS / "refresh.json").read_text()))

    assert (result["reason"], result["published"], result["stage"], result["updates_shown"]) == (
        "update",
        True,
        "identified",
        2,
    )
    status = published_status(page_bucket)
    assert (status["stage"], status["message"], status["updated_at"]) == (
        "identified",
        "A bad deploy; rolling back. <@U123> <!channel>",
        "2026-11-21T02:20:27.123Z",
    )
    assert [u["stage"] for u in status["updates"]] == ["identified", "investigating"]
    page = get_object(page_bucket, PREFIX + "index.html")["Text"]
    assert "U0SECRET" not in page
    assert "U0SECRET" not in json.dumps(status)
    assert parse_html(page).by_id("message").text == "A bad deploy; rolling back. <@U123> <!channel>"
    assert len(invalidated_paths(distribution)) == 2


def test_a_refresh_for_an_unregistered_site_is_refused_and_publishes_nothing(
    refresh_page: ModuleType, page_bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    event = {"detour": "refresh", "site_id": "another-health-check", "reason": "update"}
    with pytest.raises(UnregisteredSite, match="site 'another-health-check' is not registered"):
        invoke(refresh_page, event)
    assert object_versions(page_bucket) == []
    (refused,) = [r for r in log_records(capsys.readouterr().out) if r["level"] == "ERROR"]
    assert "another-health-check" in refused["error"]


def test_the_schedule_refreshes_every_registered_site_each_in_its_own_place(
    refresh_page: ModuleType, page_bucket: str, distribution: str, function_env: Any
) -> None:
    other = register_site(
        function_env.name,
        site_id="9f8e7d6c-2222-4e5f-9a7b-0123456789ab",
        domain="docs.example.com",
        site_name="Example Docs",
        alarm_name="detour/detour-site-docs/primary-health",
        distribution_id=create_distribution(page_bucket),
        stack_name="detour-site-docs",
        retry_after_s=600,
    )
    invoke(refresh_page, logged(function_env, transition_event("ALARM", "OK", at(0))))

    result = invoke(refresh_page, SCHEDULED)
    assert (result["sites"], result["pages"][other.site_id]["published"]) == (2, True)
    assert result["pages"][SITE_ID]["published"] is False  # already up to date
    docs = get_object(page_bucket, other.page_prefix + "index.html")
    assert parse_html(docs["Text"]).find_all("title")[0].text == "Example Docs: temporarily unavailable"
    assert docs["Metadata"]["retry-after"] == "600"
    assert json.loads(get_object(page_bucket, other.page_prefix + "status.json")["Text"])["started_at"] is None
    assert published_status(page_bucket)["started_at"] == "2026-11-21T02:14:27.123Z"  # each its own incident
    assert len(invalidated_paths(other.distribution_id)) == 1
    assert len(invalidated_paths(distribution)) == 1


def test_other_direct_events_are_refused(refresh_page: ModuleType) -> None:
    with pytest.raises(InvalidRefreshRequest, match="takes 'refresh' events, not 'update-posted'"):
        invoke(refresh_page, {"detour": "update-posted", "site_id": SITE_ID, "update": "UPDATE#x"})
    with pytest.raises(ValueError, match="needs a 'site_id' string"):
        invoke(refresh_page, {"detour": "refresh", "reason": "update"})


def test_the_schedule_turns_an_old_resolution_neutral_and_otherwise_writes_nothing(
    refresh_page: ModuleType, page_bucket: str, distribution: str, function_env: Any, clock: Clock
) -> None:
    invoke(refresh_page, logged(function_env, transition_event("ALARM", "OK", at(0))))
    clock(16.6)
    invoke(refresh_page, transition_event("OK", "ALARM", at(16.5)))
    assert published_status(page_bucket)["state"] == "resolved"
    versions, invalidations = len(site_versions(page_bucket)), len(invalidated_paths(distribution))

    clock(16.5 + RESOLVED_MINUTES - 1)  # still news: the sweep finds the page as it should be
    result = invoke(refresh_page, SCHEDULED)
    assert (result["reason"], result["pages"][SITE_ID]["page_state"], result["published"]) == (
        "schedule",
        "resolved",
        False,
    )
    assert (len(site_versions(page_bucket)), len(invalidated_paths(distribution))) == (versions, invalidations)

    clock(16.5 + RESOLVED_MINUTES + 4)  # the first sweep after the resolution stopped being news
    result = invoke(refresh_page, SCHEDULED)
    assert (result["pages"][SITE_ID]["page_state"], result["published"]) == ("unavailable", True)
    status = published_status(page_bucket)
    assert (status["state"], status["started_at"], status["resolved_at"], status["updates"]) == (
        "unavailable",
        None,
        None,
        [],
    )
    assert status["updated_at"] == "2026-11-21T02:40:57.123Z"  # when it stopped being news
    page = parse_html(get_object(page_bucket, PREFIX + "index.html")["Text"])
    assert page.find_all("title")[0].text == "Example Shop: temporarily unavailable"
    assert len(invalidated_paths(distribution)) == invalidations + 1

    versions, invalidations = len(site_versions(page_bucket)), len(invalidated_paths(distribution))
    for minutes in (35, 40, 45):  # later sweeps: the same page, so nothing is written or invalidated
        clock(minutes)
        assert invoke(refresh_page, SCHEDULED)["published"] is False
    assert (len(site_versions(page_bucket)), len(invalidated_paths(distribution))) == (versions, invalidations)


def test_news_before_the_alarm_reaches_the_neutral_page_on_the_next_refresh(
    refresh_page: ModuleType, page_bucket: str, function_env: Any, clock: Clock
) -> None:
    post(function_env, update("investigating", 1, "Checkout is failing; looking into it."))
    clock(1.1)
    invoke(refresh_page, {"detour": "refresh", "site_id": SITE_ID, "reason": "update"})
    status = published_status(page_bucket)
    assert (status["state"], status["started_at"], status["message"], status["stage"]) == (
        "unavailable",
        None,
        "Checkout is failing; looking into it.",
        "investigating",
    )


def test_a_page_identical_to_the_published_one_is_not_uploaded_again(page_bucket: str, distribution: str) -> None:
    publisher = PagePublisher(
        page_bucket, distribution, boto3.client("s3"), boto3.client("cloudfront"), prefix=PREFIX, retry_after_s=120
    )
    assert publisher.publish("<p>page</p>", b'{"state":"unavailable"}', order="000000000001|2026-11-21T02:10:00.000Z")
    metadata = get_object(page_bucket, PREFIX + "index.html")["Metadata"]
    assert metadata.keys() == {"detour-order", "detour-sha256", "retry-after"}
    assert get_object(page_bucket, PREFIX + "status.json")["Metadata"].keys() == {"detour-order", "detour-sha256"}

    again = publisher.publish("<p>page</p>", b'{"state":"unavailable"}', order="000000000001|2026-11-21T02:15:00.000Z")
    assert again is False  # newer, but the same bytes: no write, no invalidation
    assert sorted(site_versions(page_bucket)) == ["index.html", "status.json"]
    assert len(invalidated_paths(distribution)) == 1
    assert get_object(page_bucket, PREFIX + "index.html")["Metadata"] == metadata

    changed = publisher.publish("<p>page</p>", b'{"state":"resolved"}', order="000000000002|2026-11-21T02:16:00.000Z")
    assert changed is True  # only the status changed: only it is written
    assert sorted(site_versions(page_bucket)) == ["index.html", "status.json", "status.json"]
    assert len(invalidated_paths(distribution)) == 2

    longer = PagePublisher(
        page_bucket, distribution, boto3.client("s3"), boto3.client("cloudfront"), prefix=PREFIX, retry_after_s=900
    )
    retried = longer.publish("<p>page</p>", b'{"state":"resolved"}', order="000000000003|2026-11-21T02:17:00.000Z")
    assert retried is True  # the same HTML with a new Retry-After is a new page
    assert get_object(page_bucket, PREFIX + "index.html")["Metadata"]["retry-after"] == "900"


def test_a_rejected_event_is_not_logged_under_the_previous_events_site(
    refresh_page: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke(refresh_page, transition_event("ALARM", "OK", at(0)))
    capsys.readouterr()
    with pytest.raises(InvalidAlarmMessage):
        invoke(refresh_page, sns_event("{truncated"))
    (rejected,) = [r for r in log_records(capsys.readouterr().out) if r["level"] == "ERROR"]
    assert not {"site_id", "alarm", "state"} & set(rejected)


def test_one_sites_failure_holds_up_no_other_in_the_sweep_and_fails_it_afterwards(
    refresh_page: ModuleType, page_bucket: str, function_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = register_site(  # sorts first; its stored setting is one this layer refuses
        function_env.name,
        site_id="9f8e7d6c-2222-4e5f-9a7b-0123456789ab",
        domain="docs.example.com",
        contact_url="javascript:alert(1)",
    )
    with pytest.raises(PagePublishError, match=r"1 of 2 pages failed: docs\.example\.com: PageSettingsError: "):
        invoke(refresh_page, SCHEDULED)
    assert published_status(page_bucket)["state"] == "unavailable"  # www's page went out all the same
    assert not [key for key in object_versions(page_bucket) if key.startswith(broken.page_prefix)]
    (logged,) = [r for r in log_records(capsys.readouterr().out) if r.get("failed_site") == broken.site_id]
    assert logged["message"] == "Refreshing a site's page failed"
