from __future__ import annotations

import itertools
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from detour.incidents.transition import AlarmState, Transition
from detour.incidents.windows import derive_windows, window_for
from tests.support.transitions import T0, transition

STATES = list(AlarmState)


def spans(transitions: list[Transition]) -> list[tuple[float, float | None]]:
    def minute(moment: datetime | None) -> float | None:
        return None if moment is None else (moment - T0).total_seconds() / 60

    return [(minute(w.started_at), minute(w.ended_at)) for w in derive_windows(transitions)]


def test_an_alarm_and_the_next_ok_make_one_closed_window() -> None:
    windows = derive_windows([transition("ALARM", 14), transition("OK", 31.5)])
    assert len(windows) == 1
    assert windows[0].duration_s == 17.5 * 60
    assert not windows[0].is_open
    assert windows[0].reason == "ALARM at 14"


def test_an_alarm_without_ok_is_an_open_window() -> None:
    (window,) = derive_windows([transition("ALARM", 5)])
    assert window.is_open
    assert window.duration_s is None


def test_insufficient_data_neither_opens_nor_closes_a_window() -> None:
    assert spans([transition("INSUFFICIENT_DATA", 1), transition("OK", 2)]) == []
    assert spans([transition("ALARM", 1), transition("INSUFFICIENT_DATA", 2), transition("OK", 9)]) == [(1, 9)]
    assert spans([transition("ALARM", 1), transition("INSUFFICIENT_DATA", 2)]) == [(1, None)]


def test_a_repeated_alarm_continues_the_open_window() -> None:
    sequence = ["ALARM", "INSUFFICIENT_DATA", "ALARM", "OK"]
    assert spans([transition(state, minute) for minute, state in enumerate(sequence)]) == [(0, 3)]


def test_ok_without_an_alarm_changes_nothing_and_windows_are_oldest_first() -> None:
    sequence = [("OK", 0), ("ALARM", 10), ("OK", 12), ("OK", 13), ("ALARM", 20), ("OK", 25), ("ALARM", 30)]
    assert spans([transition(s, m) for s, m in reversed(sequence)]) == [(10, 12), (20, 25), (30, None)]


sequences = st.lists(st.tuples(st.sampled_from(STATES), st.integers(1, 5)), min_size=1, max_size=12).map(
    # strictly increasing times, as CloudWatch emits them for one alarm
    lambda steps: [transition(state, sum(gap for _, gap in steps[: i + 1])) for i, (state, _) in enumerate(steps)]
)


@given(sequences, st.data())
def test_any_order_with_any_duplicates_gives_the_same_windows(seq: list[Transition], data: st.DataObject) -> None:
    duplicated = seq + data.draw(st.lists(st.sampled_from(seq), max_size=len(seq)))
    shuffled = data.draw(st.permutations(duplicated))
    assert derive_windows(shuffled) == derive_windows(seq)


@given(sequences)
def test_windows_never_overlap_and_only_the_last_can_be_open(seq: list[Transition]) -> None:
    windows = derive_windows(seq)
    for earlier, later in itertools.pairwise(windows):
        assert earlier.ended_at is not None
        assert earlier.ended_at <= later.started_at
    assert all(w.duration_s is None or w.duration_s > 0 for w in windows)


def test_window_for_finds_the_window_a_transition_belongs_to() -> None:
    windows = derive_windows([transition("ALARM", 10), transition("OK", 20), transition("ALARM", 30)])
    closed, still_open = windows
    assert window_for(transition("ALARM", 10), windows) == closed
    assert window_for(transition("INSUFFICIENT_DATA", 15), windows) == closed
    assert window_for(transition("OK", 20), windows) == closed  # the OK that closed it
    assert window_for(transition("INSUFFICIENT_DATA", 25), windows) is None  # between incidents
    assert window_for(transition("OK", 25), windows) is None  # an OK that closed nothing
    assert window_for(transition("INSUFFICIENT_DATA", 45), windows) == still_open
