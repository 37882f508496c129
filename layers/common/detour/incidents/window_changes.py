"""What one transition changes in the stored failover windows, reading only its neighbourhood.

Windows depend only on the ALARM and OK transitions ("edges") and on which edge comes right before
each one: an ALARM after an OK (or first) opens a window, an OK after an ALARM closes it. Adding
one transition therefore changes at most the window around it and the one right after it, and
`changes_for` needs just three facts: the last window starting at or before the transition, the
first window starting after it, and the first applied edge after it. Between two windows every
edge is an OK; inside one, every edge but the last is an ALARM; that is what makes these enough.
Applied one at a time, in any order, the changes end in exactly `derive_windows` of the whole set.

Times are compared alone: a site has one alarm (the template's), so no two of its transitions
share a millisecond. Several alarms per site would need the alarm name in the comparisons and in
the windows' keys (an ALARM, an OK and an ALARM of three alarms in one millisecond make two windows
that start at the same time).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from detour.incidents.transition import AlarmState, Transition
from detour.incidents.windows import FailoverWindow, window_opened_by


class InconsistentWindows(RuntimeError):
    """The stored windows contradict the transitions (written by something else than this code)."""


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    before: FailoverWindow | None  # the last window starting at or before the transition
    after: FailoverWindow | None  # the first window starting after it
    next_edge: Transition | None  # the first applied ALARM or OK after it


@dataclass(frozen=True, slots=True)
class WindowChanges:
    put: tuple[FailoverWindow, ...] = ()  # new windows, or new versions of windows (same start)
    delete: tuple[FailoverWindow, ...] = ()  # windows that no longer exist under their start

    @property
    def touched(self) -> tuple[FailoverWindow, ...]:
        return self.put + self.delete


def changes_for(transition: Transition, around: Neighbourhood) -> WindowChanges:
    if transition.new_state is AlarmState.ALARM:
        return _alarm(transition, around)
    if transition.new_state is AlarmState.OK:
        return _ok(transition, around)
    return WindowChanges()  # INSUFFICIENT_DATA neither opens nor closes a window


def _alarm(alarm: Transition, around: Neighbourhood) -> WindowChanges:
    at, before = alarm.changed_at, around.before
    if before is not None and before.holds(at):  # the outage was already on: it continues
        if at == before.started_at or alarm.old_state is not AlarmState.OK or at in before.gaps:
            return WindowChanges()
        return WindowChanges(put=(replace(before, gaps=tuple(sorted((*before.gaps, at)))),))
    edge = around.next_edge
    if edge is None:
        return WindowChanges(put=(window_opened_by(alarm, None),))
    if edge.new_state is AlarmState.OK:  # the next edge is the OK that ends this new outage
        return WindowChanges(put=(window_opened_by(alarm, edge.changed_at),))
    # The next edge opens the following window: with no OK between, that outage began here.
    following = around.after
    if following is None or following.started_at != edge.changed_at:
        raise InconsistentWindows(
            f"the ALARM at {edge.changed_at.isoformat()} of site {alarm.site_id} follows a healthy period "
            "but opens no window"
        )
    absorbed = (following.started_at,) if following.opened_from is AlarmState.OK else ()
    merged = window_opened_by(alarm, following.ended_at, (*absorbed, *following.gaps))
    return WindowChanges(put=(merged,), delete=(following,))


def _ok(ok: Transition, around: Neighbourhood) -> WindowChanges:
    at, before = ok.changed_at, around.before
    if before is None or before.started_at >= at or (before.ended_at is not None and at >= before.ended_at):
        return WindowChanges()  # healthy already, or the OK that ends the window (again)
    # An OK inside a window: the outage ended here, and the ALARMs after it are a new one.
    ended = replace(before, ended_at=at, gaps=tuple(g for g in before.gaps if g < at))
    edge = around.next_edge
    if edge is None or edge.new_state is not AlarmState.ALARM:
        return WindowChanges(put=(ended,))
    rest = window_opened_by(edge, before.ended_at, tuple(g for g in before.gaps if g > edge.changed_at))
    return WindowChanges(put=(ended, rest))
