"""The period arithmetic of `detour report`, on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detour_cli.availability import Period, summarize, summarize_sites, windows_in
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


def test_the_total_over_sites_weighs_each_sites_time_alike() -> None:
    now = T0 + timedelta(days=2)
    down_an_hour = windows_in(DAY, [window(60, 120)], now)
    planned_and_down = windows_in(DAY, [window(0, 240, planned=True), window(600, 630)], now)
    total = summarize_sites(DAY, [down_an_hour, planned_and_down, []])
    assert (total.count, total.planned_count, total.closed_unplanned) == (3, 1, 2)
    assert total.downtime_s == 90 * 60
    assert total.longest_s == 60 * 60
    assert total.mttr_s == 45 * 60
    scheduled = 3 * 86400 - 4 * 3600
    assert total.availability_pct == 100.0 * (scheduled - 90 * 60) / scheduled
    assert summarize_sites(DAY, []).availability_pct is None
