"""The site's failover windows for the operator verbs: the incident store's own windows (planned
flag included), oldest first, reading only the ones a verb shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from detour.incidents.store import IncidentStore
from detour.incidents.windows import FailoverWindow

LoggedWindow = FailoverWindow


def logged_windows(
    dynamodb: Any, table_name: str, site_id: str, *, since: datetime | None = None, until: datetime | None = None
) -> list[FailoverWindow]:
    """The site's windows that overlap [since, until] (every window without them), oldest first."""
    return IncidentStore(table_name, dynamodb).windows(site_id, since=since, until=until)[::-1]


def current_window(dynamodb: Any, table_name: str, site_id: str) -> FailoverWindow | None:
    """The open window, if any: one item read."""
    return IncidentStore(table_name, dynamodb).open_window(site_id)
