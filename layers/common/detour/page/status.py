"""What the maintenance page says right now, derived from the site's transitions, its notice and
the incident's timeline.

The page is only ever seen by visitors whose DNS points at it, so every state is "unavailable" to
them except `resolved`, which tells them the primary is back and their DNS will follow. A resolution
is news for `RESOLVED_FOR` only: after that, anyone still sent to the page is in a new problem the
alarm has not reported yet, so the page turns neutral ("temporarily unavailable, details follow
shortly": no start, no "we're back"), on the server as well as in the reader's browser.

The state comes from the newest transition recorded (plus the one being handled), never from the
event alone: SNS may deliver an old ALARM after the OK that ended it. Everything here is a function
of what is stored (and of `now` only through `RESOLVED_FOR`): the same facts give the same page, so
a periodic refresh that learns nothing new publishes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from detour.incidents.notices import SiteNotice
from detour.incidents.transition import AlarmState, Transition, format_time
from detour.incidents.updates import RESOLVED_FOR, Source, Stage, Timeline
from detour.incidents.windows import FailoverWindow, derive_windows, ordered

if TYPE_CHECKING:
    from detour.signals.states import SignalReading

# "Technical details": the alarm's reason, CloudWatch's own words (about 160 characters). Not the
# alarm's description: the stack wrote that ("the primary ... is failing"), and it is true only in
# an outage.
MAX_DETAIL_CHARS = 250
# A failed check's name in status.json: an alarm's name can be 255 characters, the page has a budget.
MAX_CHECK_LABEL_CHARS = 64
# The "Latest update" of a resolved page with no word from people since the recovery: the outage's
# default message ("we are working to restore...") or an update written during it would contradict it.
RESTORED_MESSAGE = "The service is working again."


class PageState(StrEnum):
    UNAVAILABLE = "unavailable"  # the primary is failing, or a problem not reported yet (no start)
    UNKNOWN = "unknown"  # the health check's data went missing: not known to be back
    RESOLVED = "resolved"  # the primary is healthy again (for RESOLVED_FOR after the OK)


@dataclass(frozen=True, slots=True)
class PageUpdate:
    """A timeline entry as the page shows it: never its author."""

    stage: Stage
    message: str
    posted_at: datetime
    source: Source

    def to_json(self, *, texts: bool = True) -> dict[str, Any]:
        shown = {"stage": self.stage.value, "posted_at": format_time(self.posted_at)}
        return shown | {"message": self.message} if texts else shown


@dataclass(frozen=True, slots=True)
class PageStatus:
    state: PageState
    updated_at: datetime | None  # the newest information shown; None before there is any
    message: str
    planned: bool = False
    started_at: datetime | None = None
    resolved_at: datetime | None = None
    detail: str = ""  # the alarm's own words, for the page's "technical details"; not in status.json
    expected_end: datetime | None = None  # planned maintenance: the notice's `until`
    updates: tuple[PageUpdate, ...] = ()  # newest first
    earlier_updates: int = 0  # the incident's updates before those, not shown
    failed_checks: tuple[str, ...] = ()  # which of the site's checks failed it over ("5xx rate")
    cause: str = ""  # and what they said: the technical details, instead of `detail`; not in status.json

    @property
    def stage(self) -> Stage | None:
        return self.updates[0].stage if self.updates else None

    @property
    def view(self) -> str:
        """Which of the page's state blocks is shown (the script decides the same way)."""
        if self.state is PageState.RESOLVED:
            return "resolved"
        if self.planned:
            return "planned"
        return "unavailable" if self.started_at else "neutral"

    def to_json(self, *, texts: bool = True) -> dict[str, Any]:
        """status.json: exactly what the page's script polls for. `texts=False` leaves out the
        messages: the copy embedded in the page, whose HTML already carries them."""
        shown = {
            "state": self.state.value,
            "started_at": _time(self.started_at),
            "updated_at": _time(self.updated_at),
            "resolved_at": _time(self.resolved_at),
            "message": self.message,
            "planned": self.planned,
            "expected_end": _time(self.expected_end),
            "stage": self.stage.value if self.stage else None,
            "updates": [update.to_json(texts=texts) for update in self.updates],
            "earlier_updates": self.earlier_updates,
            "failed_checks": list(self.failed_checks),
        }
        if not texts:  # the page's own copy: its HTML shows these, and its script needs none of them
            del shown["message"], shown["failed_checks"]
        return shown

    def without_oldest_update(self) -> PageStatus:
        """The same status showing one update fewer (counted as earlier)."""
        return replace(self, updates=self.updates[:-1], earlier_updates=self.earlier_updates + 1)


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


def page_status(
    history: SiteHistory,
    notice: SiteNotice | None,
    default_message: str,
    now: datetime,
    timeline: Timeline | None = None,
) -> PageStatus:
    """`timeline` is the current incident's (see `incident_updates.current_span`), newest first."""
    timeline = timeline or Timeline(updates=())
    status = _state(history, now)
    last = history.recent[0] if history.recent else None
    # Planned by the operator's notice, or by the window it opened (which outlives a notice past its `until`).
    planned = bool(notice and notice.planned) or (last is not None and last.is_open and last.planned)
    began = notice.since if notice and notice.planned else None
    if status.state is PageState.RESOLVED and began and status.resolved_at and began > status.resolved_at:
        # Maintenance turned on after the last recovery: visitors arriving now are in it, not in "we're back".
        status = PageStatus(PageState.UNAVAILABLE, updated_at=began, message="")
    updates = tuple(PageUpdate(u.stage, u.message, u.posted_at, u.source) for u in timeline.updates)
    status = replace(
        status,
        planned=planned,
        expected_end=notice.until if notice and planned else None,
        updates=updates,
        earlier_updates=timeline.earlier,
        message=_message(status, timeline, notice, default_message),
    )
    newest = [moment for moment in (status.updated_at, updates[0].posted_at if updates else None) if moment]
    return replace(status, updated_at=max(newest) if newest else None)


def with_cause(status: PageStatus, reading: SignalReading | None) -> PageStatus:
    """The outage's recorded cause (detour.signals.causes), if any: which checks failed, and why."""
    if reading is None:
        return status
    return replace(
        status,
        failed_checks=tuple(_cut(state.label, MAX_CHECK_LABEL_CHARS) for state in reading.failing),
        cause=_detail(f"Failed over on: {reading.public_summary()}"),
    )


def _state(history: SiteHistory, now: datetime) -> PageStatus:
    """The state, its times and its technical details; `updated_at` is the newest transition's time
    (never older than the incident's start), or when a resolution stopped being news."""
    latest = history.latest
    if latest is None:  # deployed, no alarm yet: the DNS moved before the alarm could tell us why
        return PageStatus(PageState.UNAVAILABLE, updated_at=None, message="")

    last_window = history.recent[0] if history.recent else None
    open_window = last_window if last_window is not None and last_window.is_open else None
    if latest.new_state is AlarmState.OK:
        if now - latest.changed_at > RESOLVED_FOR:  # old news: this visitor is in a problem not reported yet
            return PageStatus(PageState.UNAVAILABLE, updated_at=latest.changed_at + RESOLVED_FOR, message="")
        ended_here = last_window is not None and last_window.ended_at == latest.changed_at
        return PageStatus(
            PageState.RESOLVED,
            updated_at=latest.changed_at,
            message="",
            started_at=last_window.started_at if ended_here and last_window else None,
            resolved_at=latest.changed_at,
            detail=_detail(latest.reason),
        )
    if latest.new_state is AlarmState.ALARM or open_window is not None:
        started_at = open_window.started_at if open_window else latest.changed_at
        return PageStatus(
            PageState.UNAVAILABLE,
            updated_at=max(latest.changed_at, started_at),
            message="",
            started_at=started_at,
            detail=_detail(latest.reason),
        )
    # INSUFFICIENT_DATA outside an outage: nobody knows yet, and nothing says the primary is failing.
    return PageStatus(PageState.UNKNOWN, updated_at=latest.changed_at, message="", detail=_detail(latest.reason))


def _message(status: PageStatus, timeline: Timeline, notice: SiteNotice | None, default_message: str) -> str:
    """The "Latest update": the newest word from people, else the operator's notice, else the
    default for the state. A resolved page takes only what was said since the recovery."""
    if status.state is PageState.RESOLVED:
        said = timeline.newest_from_people
        resolved_at = status.resolved_at
        return said.message if said and resolved_at and said.posted_at >= resolved_at else RESTORED_MESSAGE
    said = timeline.newest_from_people
    if said is not None:
        return said.message
    return notice.message if notice else default_message


def _detail(detail: str) -> str:
    return _cut(detail, MAX_DETAIL_CHARS)  # alarm text is the operator's, but the page has a size budget


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _time(moment: datetime | None) -> str | None:
    return format_time(moment) if moment else None
