"""The period arithmetic of `detour report`, on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detour_cli.availability import Period, summarize, windows_in
from detour_cli.report import parse_moment
from detour_cli.window_log import LoggedWindow

T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = Period(T0, T0 + timedelta(days=1))


def window(start_min: float, end_min: float | None, planned: bool = False) -> LoggedWindow:
    end = None if end_min is None else T0 + timedelta(minutes=end_min)
    return LoggedWindow("hc-1", T0 + timedelta(minutes=start_min), end, planned=planned)


def test_windows_outside_the_period_do_not_count() -> None:
    rows = windows_in(DAY, [window(-60, -1), window(1441, 1500)], now=T0 + timedelta(days=2))
    assert rows == []


def test_an_open_window_is_counted_until_now_not_the_periods_end() -> None:
    now = T0 + timedelta(hours=3)
    (row,) = windows_in(DAY, [window(60, None)], now=now)
    assert row.end == now
    assert row.duration_s == 2 * 3600


def test_all_planned_leaves_availability_undefined_and_no_downtime() -> None:
    rows = windows_in(DAY, [window(-10, 1450, planned=True)], now=T0 + timedelta(days=2))
    summary = summarize(DAY, rows)
    assert summary.planned_s == DAY.seconds
    assert summary.downtime_s == 0
    assert summary.availability_pct is None


def test_relative_and_absolute_times() -> None:
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert parse_moment("30d", now) == now - timedelta(days=30)
    assert parse_moment("90m", now) == now - timedelta(minutes=90)
    assert parse_moment("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_moment("2026-11-01T10:00+02:00", now) == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert parse_moment("now", now) == now
