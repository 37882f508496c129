"""`detour report`: the site's failover windows in a period, and what they add up to.

Windows that straddle the period's edges are clipped to it; a window still open counts until now.
Availability is over the period minus planned maintenance (windows marked planned), so planned
work never counts against it; MTTR is the mean whole duration of the closed unplanned windows.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from detour.incidents.transition import format_time
from detour.slack.message import human_duration
from detour_cli.availability import Period, Summary, WindowInPeriod, summarize, windows_in
from detour_cli.output import (
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_PROBLEM,
    Style,
    paragraphs,
    printable,
    run_reporting_errors,
    utc_text,
)
from detour_cli.stack_outputs import DetourError, add_stack_arguments, read_stack, session_for
from detour_cli.timeline_svg import timeline_svg
from detour_cli.window_log import logged_windows

RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([wdhm])$")
UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
REASON_WIDTH = 60
EPILOG = paragraphs(
    "Times: a span back from now (30d, 12h, 90m, 2w), `now`, or an ISO 8601 date or time (UTC unless it has an "
    "offset), e.g. --since 2026-11-01 --until 2026-11-08T12:00.",
    "--chart FILE.svg draws the windows on a timeline. PNG is not supported (it would need matplotlib); "
    "convert the SVG if you need one, e.g. rsvg-convert -o chart.png chart.svg.",
    EXIT_CODES_HELP.format(problem="a failover window in the period is still open (the site is failing over)"),
)


@dataclass(frozen=True, slots=True)
class Report:
    stack: str
    domain: str
    site: str
    period: Period
    rows: list[WindowInPeriod]
    summary: Summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="detour report",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_arguments(parser)
    parser.add_argument("--since", default="30d", help="start of the period (default: 30d, 30 days ago)")
    parser.add_argument("--until", default="now", help="end of the period (default: now)")
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table", help="default: table")
    parser.add_argument("--chart", type=Path, metavar="FILE.svg", help="also draw the windows on a timeline")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    try:
        # A period reaching into the future would count time that has not happened as available.
        period = Period(parse_moment(args.since, now), min(parse_moment(args.until, now), now))
    except ValueError as error:
        parser.error(str(error))
    if period.end <= period.start:
        parser.error(f"--since ({utc_text(period.start)}) must be before --until ({utc_text(period.end)})")
    if args.chart and args.chart.suffix.lower() != ".svg":
        parser.error(
            f"--chart {args.chart}: only SVG is supported (PNG would need matplotlib, which Detour does not "
            "install); write an .svg and convert it if you need a PNG, e.g. rsvg-convert -o chart.png chart.svg"
        )
    return run_reporting_errors(parser.prog, lambda: _run(args, period, now, sys.stdout))


def parse_moment(text: str, now: datetime) -> datetime:
    text = text.strip()
    if text == "now":
        return now
    relative = RELATIVE.match(text)
    if relative:
        return now - timedelta(**{UNITS[relative.group(2)]: float(relative.group(1))})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"cannot read the time {text!r}: use 30d, 12h, now, or an ISO date such as 2026-11-01"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _run(args: argparse.Namespace, period: Period, now: datetime, out: TextIO) -> int:
    session = session_for(args)
    stack = read_stack(session.client("cloudformation"), args.stack)
    site = stack.output("HealthCheckId")
    windows = logged_windows(
        session.client("dynamodb"), stack.output("IncidentsTableName"), site, since=period.start, until=period.end
    )
    rows = windows_in(period, windows, now)
    report = Report(stack.name, stack.parameters.get("DomainName", site), site, period, rows, summarize(period, rows))
    if args.chart:
        title = f"Failover windows of {report.domain}, {utc_text(period.start)} to {utc_text(period.end)}"
        try:
            args.chart.write_text(timeline_svg(period, rows, title))
        except OSError as error:
            raise DetourError(f"cannot write the chart {args.chart}: {error}") from error
    if args.format == "json":
        out.write(json.dumps(as_json(report), indent=2) + "\n")
    elif args.format == "csv":
        out.write(as_csv(rows))
    else:
        out.write(as_table(report, Style(out)) + "\n")
    if args.chart:
        print(f"chart: {args.chart} ({len(rows)} windows)", file=sys.stderr)
    return EXIT_PROBLEM if any(r.window.is_open for r in rows) else EXIT_OK


def _row(row: WindowInPeriod) -> dict[str, Any]:
    w = row.window
    return {
        "started_at": format_time(w.started_at),
        "ended_at": format_time(w.ended_at) if w.ended_at else None,
        "start_in_period": format_time(row.start),
        "end_in_period": format_time(row.end),
        "duration_s": round(row.duration_s, 3),
        "duration": human_duration(row.duration_s),
        "planned": w.planned,
        "open": w.is_open,
        "reason": w.reason,
    }


def as_json(report: Report) -> dict[str, Any]:
    period, summary = report.period, report.summary
    return {
        "stack": report.stack,
        "domain": report.domain,
        "site": report.site,
        "period": {"since": format_time(period.start), "until": format_time(period.end), "seconds": period.seconds},
        "windows": [_row(r) for r in report.rows],
        "summary": {
            "count": summary.count,
            "planned_count": summary.planned_count,
            "downtime_s": round(summary.downtime_s, 3),
            "longest_s": round(summary.longest_s, 3),
            "planned_s": round(summary.planned_s, 3),
            "mttr_s": None if summary.mttr_s is None else round(summary.mttr_s, 3),
            "closed_unplanned": summary.closed_unplanned,
            "availability_pct": None if summary.availability_pct is None else round(summary.availability_pct, 4),
        },
    }


def as_csv(rows: list[WindowInPeriod]) -> str:
    buffer = io.StringIO()
    fields = ["started_at", "ended_at", "start_in_period", "end_in_period", "duration_s", "duration"]
    writer = csv.DictWriter(buffer, fieldnames=[*fields, "planned", "open", "reason"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        values = _row(row)
        # Empty for "still open", and lower-case booleans, as most CSV readers and spreadsheets expect.
        writer.writerow(
            values
            | {
                "ended_at": values["ended_at"] or "",
                "planned": str(values["planned"]).lower(),
                "open": str(values["open"]).lower(),
            }
        )
    return buffer.getvalue()


def as_table(report: Report, style: Style) -> str:
    period, rows, summary = report.period, report.rows, report.summary
    lines = [
        style(f"Failover windows of {report.domain}", "bold")
        + f" (stack {report.stack}), {utc_text(period.start)} to {utc_text(period.end)}",
        "",
    ]
    if rows:
        lines.append(style(f"{'Start':<24} {'End':<24} {'Duration':<14} {'Planned':<8} Reason", "bold"))
        for row in rows:
            line = _table_line(row)
            lines.append(style(line, "red") if row.window.is_open else line)
        if any(r.clipped_start or r.clipped_end for r in rows):
            lines.append("* clipped at the period's edge: only the part inside the period is counted")
    else:
        lines.append("No failover windows in this period.")
    availability = "n/a" if summary.availability_pct is None else f"{summary.availability_pct:.3f} %"
    mttr = "n/a (no closed outage)" if summary.mttr_s is None else human_duration(summary.mttr_s)
    lines += [
        "",
        f"Windows:      {summary.count} ({summary.planned_count} planned)",
        f"Downtime:     {human_duration(summary.downtime_s)} (longest {human_duration(summary.longest_s)})",
        f"Planned:      {human_duration(summary.planned_s)} (excluded from availability)",
        f"MTTR:         {mttr} (over {summary.closed_unplanned} closed unplanned windows)",
        f"Availability: {availability} (the period minus planned maintenance)",
    ]
    return "\n".join(lines)


def _table_line(row: WindowInPeriod) -> str:
    start = utc_text(row.start) + ("*" if row.clipped_start else " ")
    end = "open (until now)" if row.window.is_open else utc_text(row.end) + ("*" if row.clipped_end else " ")
    reason = printable(row.window.reason.replace("\n", " "))
    reason = reason if len(reason) <= REASON_WIDTH else reason[: REASON_WIDTH - 1] + "…"
    planned = "yes" if row.window.planned else "no"
    return f"{start:<24} {end:<24} {human_duration(row.duration_s):<14} {planned:<8} {reason}"
