"""The site's failover windows as stored in the incidents table, with the attributes the operator
verbs need beyond the layer's FailoverWindow: `planned` (set by planned maintenance; absent means
unplanned). Read-only, and the same item layout as detour.incident_store (pk SITE#id, sk WINDOW#start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from detour.incident_store import WINDOW
from detour.transition import parse_time

_from_dynamodb = TypeDeserializer().deserialize


@dataclass(frozen=True, slots=True)
class LoggedWindow:
    started_at: datetime
    ended_at: datetime | None
    reason: str = ""
    planned: bool = False

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


def logged_windows(dynamodb: Any, table_name: str, site_id: str) -> list[LoggedWindow]:
    """Every window of the site, oldest first (sort keys are ISO times, so they sort by time)."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": f"SITE#{site_id}"}, ":prefix": {"S": WINDOW}},
        "ConsistentRead": True,
    }
    windows = []
    while True:
        page = dynamodb.query(**request)
        windows += [_window(item) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return windows
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def open_window(windows: list[LoggedWindow]) -> LoggedWindow | None:
    return windows[-1] if windows and windows[-1].is_open else None


def _window(raw: dict[str, Any]) -> LoggedWindow:
    item = {key: _from_dynamodb(value) for key, value in raw.items()}
    ended_at = item.get("ended_at")
    return LoggedWindow(
        started_at=parse_time(item["started_at"]),
        ended_at=parse_time(ended_at) if ended_at else None,
        reason=str(item.get("reason", "")),
        planned=item.get("planned") is True,
    )
