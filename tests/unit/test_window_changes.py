"""window_changes against derive_windows: applying transitions one at a time, in any order, reading
only each one's neighbourhood, ends in the windows of the whole set."""

from __future__ import annotations

import bisect
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from detour.incidents.transition import AlarmState, Transition
from detour.incidents.window_changes import Neighbourhood, changes_for
from detour.incidents.windows import FailoverWindow, derive_windows, ordered
from tests.support.transitions import T0, chain, transition


class Windows:
    """The store's windows and applied transitions in memory, queried the way the store queries."""

    def __init__(self) -> None:
        self.windows: dict[object, FailoverWindow] = {}
        self.applied: list[Transition] = []

    def apply(self, t: Transition) -> None:
        keys = sorted(self.windows)
        index = bisect.bisect_right(keys, t.changed_at)
        before = self.windows[keys[index - 1]] if index else None
        after = self.windows[keys[index]] if index < len(keys) else None
        edges = [
            e
            for e in ordered(self.applied)
            if (e.changed_at, e.alarm_name) > (t.changed_at, t.alarm_name)
            and e.new_state is not AlarmState.INSUFFICIENT_DATA
        ]
        changes = changes_for(t, Neighbourhood(before, after, edges[0] if edges else None))
        for window in changes.delete:
            del self.windows[window.started_at]
        for window in changes.put:
            self.windows[window.started_at] = window
        self.applied.append(t)

    def sorted(self) -> list[FailoverWindow]:
        return [self.windows[k] for k in sorted(self.windows)]


def apply_all(deliveries: list[Transition]) -> list[FailoverWindow]:
    windows = Windows()
    for t in dict.fromkeys(deliveries):  # the store applies each transition once
        windows.apply(t)
    return windows.sorted()


states = st.sampled_from(list(AlarmState))
steps = st.lists(st.tuples(states, st.integers(1, 5)), min_size=1, max_size=14)


def timeline(raw: list[tuple[AlarmState, int]]) -> list[tuple[str, float]]:
    return [(state.value, float(sum(gap for _, gap in raw[: i + 1]))) for i, (state, _) in enumerate(raw)]


@settings(max_examples=400)
@given(steps, st.lists(states, min_size=14, max_size=14), st.data())
def test_any_order_of_arbitrary_transitions_gives_the_derived_windows(
    raw: list[tuple[AlarmState, int]], olds: list[AlarmState], data: st.DataObject
) -> None:
    # old states drawn freely, so the gaps (ALARMs straight from OK inside a window) are exercised
    seq = [transition(s, m, old_state=o) for (s, m), o in zip(timeline(raw), olds, strict=False)]
    shuffled = data.draw(st.permutations(seq + data.draw(st.lists(st.sampled_from(seq), max_size=4))))
    assert apply_all(shuffled) == derive_windows(seq)


@settings(max_examples=200)
@given(steps, st.data())
def test_a_complete_cloudwatch_story_in_any_order_ends_with_no_gaps(
    raw: list[tuple[AlarmState, int]], data: st.DataObject
) -> None:
    # CloudWatch never repeats a state: drop repeats so each old state is the one before
    deduped = [step for i, step in enumerate(raw) if i == 0 or step[0] != raw[i - 1][0]]
    seq = chain(timeline(deduped))
    windows = apply_all(data.draw(st.permutations(seq)))
    assert windows == derive_windows(seq)
    assert all(w.settled for w in windows)


def test_a_late_earlier_alarm_merges_and_the_missing_ok_is_a_gap_until_it_arrives() -> None:
    a1, o1, a2, o2 = chain([("ALARM", 0), ("OK", 5), ("ALARM", 10), ("OK", 20)])
    windows = Windows()
    for t in (a2, o2, a1):
        windows.apply(t)
    (merged,) = windows.sorted()
    assert (merged.started_at, merged.ended_at, merged.gaps) == (T0, T0 + timedelta(minutes=20), (a2.changed_at,))
    assert not merged.settled  # A2 came straight from OK: an OK between is missing
    windows.apply(o1)
    assert [(w.started_at, w.ended_at, w.settled) for w in windows.sorted()] == [
        (T0, T0 + timedelta(minutes=5), True),
        (a2.changed_at, o2.changed_at, True),
    ]


def test_an_alarm_after_missing_data_inside_an_outage_is_no_gap() -> None:
    seq = chain([("ALARM", 0), ("INSUFFICIENT_DATA", 2), ("ALARM", 4), ("OK", 9)])
    (window,) = apply_all(list(reversed(seq)))
    assert window.settled
    assert window.duration_s == 9 * 60
