"""The site's failover windows for the operator verbs: the incident store's own windows (planned
flag included), oldest first, as a period or a timeline reads them."""

from __future__ import annotations

from typing import Any

from detour.incident_store import IncidentStore
from detour.windows import FailoverWindow

LoggedWindow = FailoverWindow


def logged_windows(dynamodb: Any, table_name: str, site_id: str) -> list[FailoverWindow]:
    """Every window of the site, oldest first."""
    return IncidentStore(table_name, dynamodb).windows(site_id)[::-1]


def open_window(windows: list[FailoverWindow]) -> FailoverWindow | None:
    return windows[-1] if windows and windows[-1].is_open else None
