"""Failover windows measured against a period: clipped to its edges, summed, and turned into
availability. Pure functions, so every edge case is a unit test away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from detour_cli.window_log import LoggedWindow


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class WindowInPeriod:
    """A window's part inside the period: an open window counts until now (or the period's end)."""

    window: LoggedWindow
    start: datetime
    end: datetime

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def clipped_start(self) -> bool:
        return self.start != self.window.started_at

    @property
    def clipped_end(self) -> bool:
        return self.window.ended_at is not None and self.end != self.window.ended_at


@dataclass(frozen=True, slots=True)
class Summary:
    count: int
    planned_count: int
    downtime_s: float  # unplanned, inside the period
    longest_s: float  # the longest unplanned window, inside the period (0 when none)
    planned_s: float
    mttr_s: float | None  # mean whole duration of closed unplanned windows; None when there are none
    closed_unplanned: int
    availability_pct: float | None  # over the period minus planned maintenance; None if that is nothing


def windows_in(period: Period, windows: list[LoggedWindow], now: datetime) -> list[WindowInPeriod]:
    """The windows that overlap the period, oldest first, each clipped to the period's edges."""
    found = []
    for window in sorted(windows, key=lambda w: w.started_at):
        end = window.ended_at or now
        start, stop = max(window.started_at, period.start), min(end, period.end)
        if stop > start:
            found.append(WindowInPeriod(window, start, stop))
    return found


def summarize(period: Period, rows: list[WindowInPeriod]) -> Summary:
    unplanned = [r for r in rows if not r.window.planned]
    planned_s = sum(r.duration_s for r in rows if r.window.planned)
    downtime_s = sum(r.duration_s for r in unplanned)
    closed = [r.window for r in unplanned if r.window.ended_at is not None]
    # MTTR is about how long repairs take, so it uses whole windows, even one that began before the period.
    repairs = [(w.ended_at - w.started_at).total_seconds() for w in closed if w.ended_at is not None]
    scheduled_s = period.seconds - planned_s  # planned maintenance is not counted against availability
    return Summary(
        count=len(rows),
        planned_count=len(rows) - len(unplanned),
        downtime_s=downtime_s,
        longest_s=max((r.duration_s for r in unplanned), default=0.0),
        planned_s=planned_s,
        mttr_s=sum(repairs) / len(repairs) if repairs else None,
        closed_unplanned=len(repairs),
        availability_pct=100.0 * (scheduled_s - downtime_s) / scheduled_s if scheduled_s > 0 else None,
    )


def summarize_sites(period: Period, rows_by_site: list[list[WindowInPeriod]]) -> Summary:
    """Several sites over the same period, as one: counts and times add up, MTTR is the mean over every
    closed unplanned window, availability is over the sites' periods together (each minus its planned
    maintenance), so a site down for an hour in a week of two sites is half as unavailable as one."""
    each = [summarize(period, rows) for rows in rows_by_site]
    repairs = [
        (r.window.ended_at - r.window.started_at).total_seconds()
        for rows in rows_by_site
        for r in rows
        if not r.window.planned and r.window.ended_at is not None
    ]
    downtime_s = sum(s.downtime_s for s in each)
    scheduled_s = sum(period.seconds - s.planned_s for s in each)
    return Summary(
        count=sum(s.count for s in each),
        planned_count=sum(s.planned_count for s in each),
        downtime_s=downtime_s,
        longest_s=max((s.longest_s for s in each), default=0.0),
        planned_s=sum(s.planned_s for s in each),
        mttr_s=sum(repairs) / len(repairs) if repairs else None,
        closed_unplanned=len(repairs),
        availability_pct=100.0 * (scheduled_s - downtime_s) / scheduled_s if scheduled_s > 0 else None,
    )
