"""Failover windows, derived from transitions rather than stored as mutable state.

SNS delivers at least once and not always in order, so a window is never "opened" or "closed" by
whichever message arrives first. It is a pure function of the set of transitions recorded so far:
an ALARM paired with the next OK by time. The same set, in any order, with any duplicates, gives
the same windows. `detour.incidents.window_changes` applies one transition at a time to stored windows and
must always agree with `derive_windows` (the property tests hold it to that).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from detour.incidents.transition import AlarmState, Transition


@dataclass(frozen=True, slots=True)
class FailoverWindow:
    """A period during which the site's primary was unhealthy and traffic went to the page."""

    site_id: str
    started_at: datetime
    ended_at: datetime | None = None
    reason: str = ""
    planned: bool = False  # opened during planned maintenance: not an outage for availability
    # CloudWatch's OldStateValue of the opening ALARM: kept so a merge can tell whether the window it
    # absorbs began a separate outage (see `gaps`).
    opened_from: AlarmState = AlarmState.OK
    # ALARMs inside the window, after its start, that CloudWatch says came straight from OK: an OK
    # between them has not been recorded yet, so this window is really two. Empty when the story is
    # complete (the Slack thread is only resolved then).
    gaps: tuple[datetime, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def settled(self) -> bool:
        """No transition is known to be missing inside it."""
        return not self.gaps

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return round((self.ended_at - self.started_at).total_seconds(), 3)

    def holds(self, moment: datetime) -> bool:
        """Whether `moment` falls in the window, its end included."""
        return self.started_at <= moment and (self.ended_at is None or moment <= self.ended_at)


def ordered(transitions: Iterable[Transition]) -> list[Transition]:
    """Time order, as the store's sort keys have it (changed_at, then alarm name)."""
    return sorted(set(transitions), key=lambda t: (t.changed_at, t.alarm_name))


def derive_windows(transitions: Iterable[Transition]) -> list[FailoverWindow]:
    """Pair each ALARM with the next OK by time; oldest window first.

    ALARM while a window is already open (e.g. ALARM -> INSUFFICIENT_DATA -> ALARM) continues it.
    INSUFFICIENT_DATA never opens or closes a window: missing data is not an outage, and an
    outage does not end because the data went missing. An OK with no open window changes nothing.
    """
    windows: list[FailoverWindow] = []
    opened: Transition | None = None
    gaps: list[datetime] = []
    for transition in ordered(transitions):
        if transition.new_state is AlarmState.ALARM:
            if opened is None:
                opened, gaps = transition, []
            elif transition.old_state is AlarmState.OK and transition.changed_at != opened.changed_at:
                gaps.append(transition.changed_at)
        elif transition.new_state is AlarmState.OK and opened is not None:
            windows.append(window_opened_by(opened, transition.changed_at, tuple(gaps)))
            opened = None
    if opened is not None:
        windows.append(window_opened_by(opened, None, tuple(gaps)))
    return windows


def window_for(transition: Transition, windows: Iterable[FailoverWindow]) -> FailoverWindow | None:
    """The window a transition belongs to: the one an OK closed, or the one open at that moment."""
    at = transition.changed_at
    for window in windows:
        if transition.new_state is AlarmState.OK:
            if window.ended_at == at:
                return window
        elif window.holds(at):
            return window
    return None


def window_opened_by(opened: Transition, ended_at: datetime | None, gaps: tuple[datetime, ...] = ()) -> FailoverWindow:
    return FailoverWindow(
        site_id=opened.site_id,
        started_at=opened.changed_at,
        ended_at=ended_at,
        reason=opened.reason,
        planned=opened.planned,
        opened_from=opened.old_state,
        gaps=gaps,
    )
