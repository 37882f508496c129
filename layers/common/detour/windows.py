"""Failover windows, derived from transitions rather than stored as mutable state.

SNS delivers at least once and not always in order, so a window is never "opened" or "closed" by
whichever message arrives first. It is a pure function of the set of transitions recorded so far:
an ALARM paired with the next OK by time. The same set, in any order, with any duplicates, gives
the same windows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from detour.transition import AlarmState, Transition


@dataclass(frozen=True, slots=True)
class FailoverWindow:
    """A period during which the site's primary was unhealthy and traffic went to the page."""

    site_id: str
    started_at: datetime
    ended_at: datetime | None = None
    reason: str = ""
    planned: bool = False  # opened during planned maintenance: not an outage for availability

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return round((self.ended_at - self.started_at).total_seconds(), 3)


def derive_windows(transitions: Iterable[Transition]) -> list[FailoverWindow]:
    """Pair each ALARM with the next OK by time; oldest window first.

    ALARM while a window is already open (e.g. ALARM -> INSUFFICIENT_DATA -> ALARM) continues it.
    INSUFFICIENT_DATA never opens or closes a window: missing data is not an outage, and an
    outage does not end because the data went missing. An OK with no open window changes nothing.
    """
    ordered = sorted(set(transitions), key=lambda t: (t.changed_at, t.new_state.value))
    windows: list[FailoverWindow] = []
    opened: Transition | None = None
    for transition in ordered:
        if transition.new_state is AlarmState.ALARM and opened is None:
            opened = transition
        elif transition.new_state is AlarmState.OK and opened is not None:
            windows.append(_window(opened, transition.changed_at))
            opened = None
    if opened is not None:
        windows.append(_window(opened, None))
    return windows


def window_for(transition: Transition, windows: Iterable[FailoverWindow]) -> FailoverWindow | None:
    """The window a transition belongs to: the one an OK closed, or the one open at that moment."""
    at = transition.changed_at
    for window in windows:
        if transition.new_state is AlarmState.OK:
            if window.ended_at == at:
                return window
        elif window.started_at <= at and (window.ended_at is None or at <= window.ended_at):
            return window
    return None


def _window(opened: Transition, ended_at: datetime | None) -> FailoverWindow:
    return FailoverWindow(
        site_id=opened.site_id,
        started_at=opened.changed_at,
        ended_at=ended_at,
        reason=opened.reason,
        planned=opened.planned,
    )
