"""What the maintenance page says right now, derived from the site's transitions and its notice.

The page is only ever seen by visitors whose DNS points at it, so every state is "unavailable" to
them except `resolved`, which tells them the primary is back and their DNS will follow.

The state comes from the newest transition recorded (plus the one being handled), never from the
event alone: SNS may deliver an old ALARM after the OK that ended it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from detour.site_notice import SiteNotice
from detour.transition import AlarmState, Transition, format_time
from detour.windows import FailoverWindow, derive_windows, ordered

MAX_DETAIL_CHARS = 400  # "technical details": the alarm's description and reason


class PageState(StrEnum):
    UNAVAILABLE = "unavailable"  # the primary is failing (or no alarm has arrived yet)
    UNKNOWN = "unknown"  # the health check's data went missing: not known to be back
    RESOLVED = "resolved"  # the primary is healthy again


@dataclass(frozen=True, slots=True)
class PageStatus:
    state: PageState
    updated_at: datetime
    message: str
    planned: bool = False
    started_at: datetime | None = None
    resolved_at: datetime | None = None
    detail: str = ""  # the alarm's own words, for the page's "technical details"; not in status.json

    def to_json(self) -> dict[str, Any]:
        """status.json: exactly what the page's script polls for."""
        return {
            "state": self.state.value,
            "started_at": _time(self.started_at),
            "updated_at": format_time(self.updated_at),
            "resolved_at": _time(self.resolved_at),
            "message": self.message,
            "planned": self.planned,
        }


@dataclass(frozen=True, slots=True)
class SiteHistory:
    """What the page is rendered from: the newest transition and the newest windows (newest first)."""

    latest: Transition | None
    recent: Sequence[FailoverWindow]

    @classmethod
    def of(cls, transitions: Iterable[Transition]) -> SiteHistory:
        """From a whole set of transitions (what the store keeps up to date one by one)."""
        in_order = ordered(transitions)
        return cls(latest=in_order[-1] if in_order else None, recent=derive_windows(in_order)[::-1])

    def recent_windows(self, limit: int) -> list[FailoverWindow]:
        """Newest first."""
        return list(self.recent[:limit])


def page_status(history: SiteHistory, notice: SiteNotice | None, default_message: str, now: datetime) -> PageStatus:
    latest = history.latest
    message = notice.message if notice else default_message
    planned = notice.planned if notice else False
    if latest is None:  # deployed, no alarm yet: the DNS moved before the alarm could tell us why
        return PageStatus(PageState.UNAVAILABLE, updated_at=now, message=message, planned=planned)

    last_window = history.recent[0] if history.recent else None
    detail = " ".join(part for part in (latest.alarm_description, latest.reason) if part)
    if len(detail) > MAX_DETAIL_CHARS:  # alarm text is the operator's, but the page has a size budget
        detail = detail[: MAX_DETAIL_CHARS - 1] + "…"
    if latest.new_state is AlarmState.OK:
        ended_here = last_window is not None and last_window.ended_at == latest.changed_at
        return PageStatus(
            PageState.RESOLVED,
            updated_at=now,
            message=message,
            planned=planned,
            started_at=last_window.started_at if ended_here and last_window else None,
            resolved_at=latest.changed_at,
            detail=detail,
        )
    open_window = last_window if last_window is not None and last_window.is_open else None
    started_at: datetime | None
    if latest.new_state is AlarmState.ALARM:
        started_at = open_window.started_at if open_window else latest.changed_at
        return PageStatus(PageState.UNAVAILABLE, now, message, planned, started_at=started_at, detail=detail)
    # INSUFFICIENT_DATA: during an outage it is still that outage; otherwise nobody knows yet.
    state = PageState.UNAVAILABLE if open_window else PageState.UNKNOWN
    started_at = open_window.started_at if open_window else None
    return PageStatus(state, now, message, planned, started_at=started_at, detail=detail)


def _time(moment: datetime | None) -> str | None:
    return format_time(moment) if moment else None
