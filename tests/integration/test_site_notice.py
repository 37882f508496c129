"""The operator's notice in the incidents table (moto server): posted, read, expired, cleared."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from detour.incidents.notices import NoticeBoard, NoticeError, SiteNotice
from tests.support.events import SITE_ID
from tests.support.page import T0


def board(table: Any) -> NoticeBoard:
    return NoticeBoard(table.name, boto3.client("dynamodb"))


def test_a_posted_notice_is_read_back_until_it_expires(incidents_table: Any) -> None:
    notice = SiteNotice("Database upgrade until 04:00 UTC.", planned=True, until=T0 + timedelta(hours=2))
    board(incidents_table).post(SITE_ID, notice)
    assert board(incidents_table).current(SITE_ID, T0) == notice
    assert board(incidents_table).current(SITE_ID, T0 + timedelta(hours=2)) is None
    assert board(incidents_table).current("another-site", T0) is None
    item = incidents_table.get_item(Key={"pk": f"SITE#{SITE_ID}", "sk": "NOTICE"})["Item"]
    assert item["until"] == "2026-11-21T04:14:27.123Z"


def test_a_notice_without_an_end_lasts_until_cleared(incidents_table: Any) -> None:
    board(incidents_table).post(SITE_ID, SiteNotice("We are on it."))
    assert board(incidents_table).current(SITE_ID, T0 + timedelta(days=365)) == SiteNotice("We are on it.")
    board(incidents_table).clear(SITE_ID)
    assert board(incidents_table).current(SITE_ID, T0) is None


def test_a_missing_table_is_a_specific_error(aws: str) -> None:
    with pytest.raises(NoticeError, match="DynamoDB table nope: reading the notice of site s failed"):
        NoticeBoard("nope", boto3.client("dynamodb")).current("s", T0)


@pytest.mark.parametrize(
    ("item", "warning"),
    [
        ({"message": {"S": "Back at 04:30"}, "until": {"S": "2026-11-21 04:30"}}, "is not ISO 8601 with an offset"),
        ({"message": {"S": "   "}}, "it has no message"),
        ({"planned": {"BOOL": True}}, "it has no message"),
    ],
)
def test_a_hand_written_notice_that_cannot_be_used_is_ignored_not_fatal(
    incidents_table: Any, item: dict[str, Any], warning: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = boto3.client("dynamodb")
    client.put_item(
        TableName=incidents_table.name, Item={"pk": {"S": f"SITE#{SITE_ID}"}, "sk": {"S": "NOTICE"}, **item}
    )
    assert board(incidents_table).current(SITE_ID, T0) is None  # the page falls back to DefaultMessage
    assert warning in caplog.text


def test_a_hand_written_notice_that_is_too_long_is_shortened(incidents_table: Any) -> None:
    client = boto3.client("dynamodb")
    key = {"pk": {"S": f"SITE#{SITE_ID}"}, "sk": {"S": "NOTICE"}}
    client.put_item(TableName=incidents_table.name, Item={**key, "message": {"S": "m" * 2000}})
    notice = board(incidents_table).current(SITE_ID, T0)
    assert notice is not None
    assert len(notice.message) == 500
    assert notice.message.endswith("…")
