"""The operator's notice for a site: the message the maintenance page shows instead of the default.

One item per site in the incidents table, beside its transitions and windows:

    pk = SITE#<health check id>    sk = NOTICE    message, planned (bool), until (ISO 8601 UTC, optional)

A notice past its `until` is ignored, so a planned-maintenance message cannot outlive its window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from detour.transition import format_time, parse_time

SORT_KEY = "NOTICE"
MAX_MESSAGE_CHARS = 1000


class NoticeError(RuntimeError):
    """The notice could not be read or written, or is not a valid notice."""


@dataclass(frozen=True, slots=True)
class SiteNotice:
    message: str
    planned: bool = False
    until: datetime | None = None

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
        until = item.get("until", {}).get("S")
        notice = SiteNotice(
            message=item["message"]["S"],
            planned=item.get("planned", {}).get("BOOL", False),
            until=parse_time(until) if until else None,
        )
        return notice if notice.is_current(now) else None

    def post(self, site_id: str, notice: SiteNotice) -> None:
        item: dict[str, Any] = {
            **_key(site_id),
            "kind": {"S": "notice"},
            "message": {"S": notice.message},
            "planned": {"BOOL": notice.planned},
        }
        if notice.until is not None:
            item["until"] = {"S": format_time(notice.until)}
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


def _key(site_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": SORT_KEY}}
