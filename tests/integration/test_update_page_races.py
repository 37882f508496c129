"""An operator's update and an alarm transition refresh the page at once, in either order of their
reads and writes: the page ends showing both (the update within its own refresh, not at the next
sweep). Deterministic interleavings of the layer's `refresh` against moto's server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from detour.incidents.alarm_message import parse_sns_event
from detour.incidents.notices import NoticeBoard
from detour.incidents.store import IncidentStore
from detour.incidents.updates import UpdateLog
from detour.page.publisher import PagePublisher
from detour.page.refresh import Refreshed, refresh
from tests.support.events import ALARM_PREFIX, SITE_ID, transition_event
from tests.support.page import SETTINGS, at, update


class Refresher:
    """refresh_page's work, on clients made here; `hook` runs once, at the named step."""

    def __init__(self, table: str, bucket: str, distribution: str) -> None:
        self.table, self.bucket, self.distribution = table, bucket, distribution

    def __call__(
        self, minutes: float, *, transition: Any = None, pause: tuple[str, Callable[[], None]] | None = None
    ) -> Refreshed:
        dynamodb = boto3.client("dynamodb")
        store, updates = IncidentStore(self.table, dynamodb), UpdateLog(self.table, dynamodb)
        if pause is not None:
            store, updates = _paused(store, updates, *pause)
        return refresh(
            SITE_ID,
            store=store,
            notices=NoticeBoard(self.table, dynamodb),
            updates=updates,
            publisher=PagePublisher(self.bucket, self.distribution, boto3.client("s3"), boto3.client("cloudfront")),
            settings=SETTINGS,
            now=at(minutes),
            transition=transition,
        )


def _paused(store: IncidentStore, updates: UpdateLog, step: str, meanwhile: Callable[[], None]) -> tuple[Any, Any]:
    """The store and log, with `meanwhile` run right after `step` ("snapshot" or "timeline")."""

    class Once:
        def __init__(self, inner: Any, name: str) -> None:
            self._inner, self._name, self._done = inner, name, False

        def __getattr__(self, attribute: str) -> Any:
            found = getattr(self._inner, attribute)
            if attribute != self._name or self._done:
                return found

            def then(*args: Any, **kwargs: Any) -> Any:
                result = found(*args, **kwargs)
                self._done = True
                meanwhile()  # another Lambda does its whole refresh here
                return result

            return then

    if step == "snapshot":
        return Once(store, "snapshot"), updates
    return store, Once(updates, "timeline")


@pytest.fixture
def refresher(function_env: Any, page_bucket: str, distribution: str) -> Refresher:
    return Refresher(function_env.name, page_bucket, distribution)


def status(bucket: str) -> dict[str, Any]:
    return dict(json.loads(boto3.client("s3").get_object(Bucket=bucket, Key="status.json")["Body"].read()))


def ok_at(minutes: float) -> Any:
    return parse_sns_event(transition_event("OK", "ALARM", at(minutes)), alarm_prefix=ALARM_PREFIX)


def alarm_at(minutes: float) -> Any:
    return parse_sns_event(transition_event("ALARM", "OK", at(minutes)), alarm_prefix=ALARM_PREFIX)


def post(table: str, minutes: float, message: str) -> None:
    UpdateLog(table, boto3.client("dynamodb")).post(update("monitoring", minutes, message))


def test_the_update_read_an_older_version_and_the_recovery_published_first(
    refresher: Refresher, function_env: Any, page_bucket: str
) -> None:
    refresher(0, transition=alarm_at(0))
    post(function_env.name, 5, "A fix is out.")
    # The update's refresh has read the windows (before the OK); the OK's refresh runs meanwhile.
    meanwhile = lambda: refresher(6.1, transition=ok_at(6))  # noqa: E731
    late = refresher(5.1, pause=("snapshot", meanwhile))
    assert late.published is False  # an older version: it cannot go over the recovery
    final = status(page_bucket)
    assert final["state"] == "resolved"
    assert "A fix is out." in [u["message"] for u in final["updates"]]


def test_the_recovery_read_the_timeline_before_the_update_was_posted(
    refresher: Refresher, function_env: Any, page_bucket: str
) -> None:
    refresher(0, transition=alarm_at(0))

    def update_and_its_refresh() -> None:
        post(function_env.name, 6.05, "Watching error rates.")
        refresher(6.1)

    # The OK's refresh has recorded the OK and read the timeline; the update and its refresh happen now.
    slow = refresher(6.0, transition=ok_at(6), pause=("timeline", update_and_its_refresh))
    assert slow.published is False  # same version, read earlier: the update's page stays
    final = status(page_bucket)
    assert final["state"] == "resolved"
    assert final["updates"][0]["message"] == "Watching error rates."


def test_an_update_during_an_outage_and_a_late_alarm_duplicate_keep_the_update(
    refresher: Refresher, function_env: Any, page_bucket: str
) -> None:
    refresher(0, transition=alarm_at(0))
    post(function_env.name, 3, "Found it.")
    refresher(3.1)
    refresher(4, transition=alarm_at(0))  # SNS delivers the ALARM again, later
    assert status(page_bucket)["updates"][0]["message"] == "Found it."
