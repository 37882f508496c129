"""The operator's notice for a site: the message the maintenance page shows instead of the default.

One item per site in the incidents table, beside its transitions and windows:

    pk = SITE#<health check id>    sk = NOTICE    message, planned (bool), since, until (ISO 8601 UTC,
                                                  both optional)

A notice past its `until` is ignored, so a planned-maintenance message cannot outlive its window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from detour.incidents.transition import Transition, format_time, parse_time

SORT_KEY = "NOTICE"
# The page carries the message twice (as text and in its embedded status), escaped: 500 characters
# keep the worst case (all '<', or all emoji) inside the page's 20 KB budget.
MAX_MESSAGE_CHARS = 500
logger = logging.getLogger(__name__)


class NoticeError(RuntimeError):
    """The notice could not be read or written, or is not a valid notice."""


@dataclass(frozen=True, slots=True)
class SiteNotice:
    message: str
    planned: bool = False
    until: datetime | None = None
    since: datetime | None = None  # when planned maintenance began: earlier transitions are not planned

    def __post_init__(self) -> None:
        if not self.message.strip():
            raise NoticeError("a notice needs a message")
        if len(self.message) > MAX_MESSAGE_CHARS:
            raise NoticeError(f"a notice's message is at most {MAX_MESSAGE_CHARS} characters, got {len(self.message)}")

    def is_current(self, now: datetime) -> bool:
        return self.until is None or now < self.until


class NoticeBoard:
    """Reads and writes site notices. `client` is a low-level boto3 DynamoDB client."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._client = client

    def current(self, site_id: str, now: datetime) -> SiteNotice | None:
        """The site's notice, unless there is none or it has expired."""
        try:
            item = self._client.get_item(TableName=self.table_name, Key=_key(site_id), ConsistentRead=True).get("Item")
        except ClientError as error:
            raise NoticeError(
                f"DynamoDB table {self.table_name}: reading the notice of site {site_id} failed: {error}"
            ) from error
        if not item:
            return None
        notice = _usable_notice(site_id, item)
        return notice if notice is not None and notice.is_current(now) else None

    def post(self, site_id: str, notice: SiteNotice) -> None:
        item: dict[str, Any] = {
            **_key(site_id),
            "kind": {"S": "notice"},
            "message": {"S": notice.message},
            "planned": {"BOOL": notice.planned},
        }
        if notice.until is not None:
            item["until"] = {"S": format_time(notice.until)}
        if notice.since is not None:
            item["since"] = {"S": format_time(notice.since)}
        try:
            self._client.put_item(TableName=self.table_name, Item=item)
        except ClientError as error:
            raise NoticeError(
                f"DynamoDB table {self.table_name}: writing the notice of site {site_id} failed: {error}"
            ) from error

    def clear(self, site_id: str) -> None:
        try:
            self._client.delete_item(TableName=self.table_name, Key=_key(site_id))
        except ClientError as error:
            raise NoticeError(
                f"DynamoDB table {self.table_name}: clearing the notice of site {site_id} failed: {error}"
            ) from error


def during_maintenance(transition: Transition, notices: NoticeBoard) -> Transition:
    """The transition, marked planned if the site's notice says planned maintenance is under way
    at its time. Recording keeps the first function's answer, so history never changes later."""
    notice = notices.current(transition.site_id, transition.changed_at)
    began = notice is not None and (notice.since is None or notice.since <= transition.changed_at)
    planned = began and notice is not None and notice.planned
    return replace(transition, planned=planned) if planned != transition.planned else transition


def _usable_notice(site_id: str, item: dict[str, Any]) -> SiteNotice | None:
    """Operators may write the item by hand: one that cannot be used is ignored (with a warning), so
    a typo never stops the page from being refreshed during an outage."""
    message = item.get("message", {}).get("S", "").strip()
    until, since = item.get("until", {}).get("S"), item.get("since", {}).get("S")
    try:
        ends = parse_time(until) if until else None
        begins = parse_time(since) if since else None
    except ValueError:
        logger.warning("Ignoring the notice of site %s: since/until is not ISO 8601 with an offset", site_id)
        return None
    if not message:
        logger.warning("Ignoring the notice of site %s: it has no message", site_id)
        return None
    if len(message) > MAX_MESSAGE_CHARS:
        logger.warning("Truncating the notice of site %s to %d characters", site_id, MAX_MESSAGE_CHARS)
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    planned = bool(item.get("planned", {}).get("BOOL", False))
    return SiteNotice(message=message, planned=planned, until=ends, since=begins)


def _key(site_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": SORT_KEY}}
