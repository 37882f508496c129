"""`detour report`: the site's failover windows in a period, and what they add up to.

With several sites and no --site: each site's report, then the total over all of them.

Windows that straddle the period's edges are clipped to it; a window still open counts until now.
Availability is over the period minus planned maintenance (windows marked planned), so planned
work never counts against it; MTTR is the mean whole duration of the closed unplanned windows.
Each window shows its cause, as Detour recorded it when the outage began (ADR 0002): which checks
were failing, and why.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from detour.incidents.transition import format_time
from detour.signals.causes import CauseLog, OutageCauses
from detour.signals.states import SignalReading
from detour.slack.message import human_duration
from detour_cli.availability import Period, Summary, WindowInPeriod, summarize, summarize_sites, windows_in
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
from detour_cli.sites import SiteView, add_site_argument, read_deployment
from detour_cli.stack_outputs import DetourError, add_stack_arguments, session_for
from detour_cli.timeline_svg import timeline_svg
from detour_cli.window_log import logged_windows

RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([wdhm])$")
UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
REASON_WIDTH = 60
CAUSE_WIDTH = 150  # the table's cause line; JSON and CSV have the whole of it
NO_CAUSE = "cause not recorded"  # a window from before Detour recorded causes (or its ALARM not handled yet)
EPILOG = paragraphs(
    "Times: a span back from now (30d, 12h, 90m, 2w), `now`, or an ISO 8601 date or time (UTC unless it has an "
    "offset), e.g. --since 2026-11-01 --until 2026-11-08T12:00.",
    "Sites: --site picks one (its domain, health check id, site name or site stack). Without --site, a "
    "deployment with one site reports that site; with several, each site's report and then the total "
    "(availability over all the sites' time together). --chart draws one site: say which with --site.",
    "--chart FILE.svg draws the windows on a timeline. PNG is not supported (it would need matplotlib); "
    "convert the SVG if you need one, e.g. rsvg-convert -o chart.png chart.svg.",
    "Causes: under each window, what Detour recorded when its outage began (which checks were failing, and "
    "why); 'cause not recorded' for windows from before Detour recorded causes. JSON and CSV: `cause`.",
    EXIT_CODES_HELP.format(problem="a failover window in the period is still open (a site is failing over)"),
)


@dataclass(frozen=True, slots=True)
class Report:
    stack: str  # the hub
    domain: str
    site: str  # its health check id
    period: Period
    rows: list[WindowInPeriod]
    summary: Summary
    site_stack: str = ""
    causes: dict[datetime, SignalReading | None] = field(default_factory=dict)  # by window start

    def cause(self, row: WindowInPeriod) -> SignalReading | None:
        return self.causes.get(row.window.started_at)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="detour report",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_arguments(parser)
    add_site_argument(parser)
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
    deployment = read_deployment(args, session)
    if args.site is None and len(deployment.sites) > 1:
        if args.chart:
            raise DetourError(f"--chart draws one site: say which with --site ({_names(deployment.views())})")
        reports = [site_report(site, session, period, now) for site in deployment.views()]
        total = summarize_sites(period, [r.rows for r in reports])
        _write(args.format, out, reports, total)
        return EXIT_PROBLEM if any(r.window.is_open for report in reports for r in report.rows) else EXIT_OK
    report = site_report(deployment.choose(args.site), session, period, now)
    if args.chart:
        title = f"Failover windows of {report.domain}, {utc_text(period.start)} to {utc_text(period.end)}"
        try:
            args.chart.write_text(timeline_svg(period, report.rows, title))
        except OSError as error:
            raise DetourError(f"cannot write the chart {args.chart}: {error}") from error
    _write(args.format, out, [report], None)
    if args.chart:
        print(f"chart: {args.chart} ({len(report.rows)} windows)", file=sys.stderr)
    return EXIT_PROBLEM if any(r.window.is_open for r in report.rows) else EXIT_OK


def site_report(site: SiteView, session: Any, period: Period, now: datetime) -> Report:
    """One site's windows in the period, clipped and summed, each with its recorded cause (one read each)."""
    dynamodb = session.client("dynamodb")
    windows = logged_windows(dynamodb, site.table, site.site_id, since=period.start, until=period.end)
    rows = windows_in(period, windows, now)
    outage_causes = OutageCauses(CauseLog(site.table, dynamodb), site.site)
    causes = {row.window.started_at: outage_causes.reading(row.window.started_at) for row in rows}
    return Report(
        site.hub.name,
        site.domain,
        site.site_id,
        period,
        rows,
        summarize(period, rows),
        site.site.stack_name,
        causes,
    )


def _write(kind: str, out: TextIO, reports: list[Report], total: Summary | None) -> None:
    """One report as before; several, each in turn and then their total."""
    style = Style(out)
    if kind == "csv":
        out.write(as_csv(reports))
    elif total is None:
        text = json.dumps(as_json(reports[0]), indent=2) if kind == "json" else as_table(reports[0], style)
        out.write(text + "\n")
    elif kind == "json":
        out.write(json.dumps(total_json(reports, total), indent=2) + "\n")
    else:
        tables = [as_table(report, style) for report in reports]
        out.write("\n\n".join([*tables, total_table(reports, total, style)]) + "\n")


def _names(sites: list[SiteView]) -> str:
    return ", ".join(site.domain for site in sites)


def _row(row: WindowInPeriod, cause: SignalReading | None = None) -> dict[str, Any]:
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
        "cause": cause.summary() if cause is not None else None,
    }


def as_json(report: Report) -> dict[str, Any]:
    period = report.period
    return {
        "stack": report.stack,
        "domain": report.domain,
        "site": report.site,
        "site_stack": report.site_stack,
        "period": _period_json(period),
        "windows": [_row(r, report.cause(r)) for r in report.rows],
        "summary": _summary_json(report.summary),
    }


def total_json(reports: list[Report], total: Summary) -> dict[str, Any]:
    return {
        "stack": reports[0].stack,
        "period": _period_json(reports[0].period),
        "sites": [as_json(report) for report in reports],
        "total": _summary_json(total) | {"sites": len(reports)},
    }


def _period_json(period: Period) -> dict[str, Any]:
    return {"since": format_time(period.start), "until": format_time(period.end), "seconds": period.seconds}


def _summary_json(summary: Summary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "planned_count": summary.planned_count,
        "downtime_s": round(summary.downtime_s, 3),
        "longest_s": round(summary.longest_s, 3),
        "planned_s": round(summary.planned_s, 3),
        "mttr_s": None if summary.mttr_s is None else round(summary.mttr_s, 3),
        "closed_unplanned": summary.closed_unplanned,
        "availability_pct": None if summary.availability_pct is None else round(summary.availability_pct, 4),
    }


def as_csv(reports: list[Report]) -> str:
    """One row per window, each with its site's domain and id (the same columns for one site or many)."""
    buffer = io.StringIO()
    fields = ["domain", "site", "started_at", "ended_at", "start_in_period", "end_in_period", "duration_s"]
    columns = [*fields, "duration", "planned", "open", "reason", "cause"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for site, row in ((report, row) for report in reports for row in report.rows):
        values = {"domain": site.domain, "site": site.site} | _row(row, site.cause(row))
        # Empty for "still open", and lower-case booleans, as most CSV readers and spreadsheets expect.
        writer.writerow(
            values
            | {
                "ended_at": values["ended_at"] or "",
                "planned": str(values["planned"]).lower(),
                "open": str(values["open"]).lower(),
                "cause": values["cause"] or "",
            }
        )
    return buffer.getvalue()


def as_table(report: Report, style: Style) -> str:
    period, rows, summary = report.period, report.rows, report.summary
    where = f"site stack {report.site_stack}, hub {report.stack}" if report.site_stack else f"stack {report.stack}"
    lines = [
        style(f"Failover windows of {report.domain}", "bold")
        + f" ({where}), {utc_text(period.start)} to {utc_text(period.end)}",
        "",
    ]
    if rows:
        lines.append(style(f"{'Start':<24} {'End':<24} {'Duration':<14} {'Planned':<8} Reason", "bold"))
        for row in rows:
            line = _table_line(row)
            lines.append(style(line, "red") if row.window.is_open else line)
            lines.append(f"  cause: {_cause_line(report.cause(row))}")
        if any(r.clipped_start or r.clipped_end for r in rows):
            lines.append("* clipped at the period's edge: only the part inside the period is counted")
    else:
        lines.append("No failover windows in this period.")
    return "\n".join([*lines, "", *_summary_lines(summary)])


def total_table(reports: list[Report], total: Summary, style: Style) -> str:
    period = reports[0].period
    head = style(f"Total over {len(reports)} sites", "bold") + (
        f" (hub {reports[0].stack}), {utc_text(period.start)} to {utc_text(period.end)}"
    )
    per_site = [_site_total(report) for report in reports]
    return "\n".join([head, "", *per_site, "", *_summary_lines(total, over="the sites' periods together")])


def _site_total(report: Report) -> str:
    summary = report.summary
    windows = f"{summary.count} window{'' if summary.count == 1 else 's'}"
    return f"  {report.domain}: {windows}, downtime {human_duration(summary.downtime_s)}, availability {_pct(summary)}"


def _pct(summary: Summary) -> str:
    return "n/a" if summary.availability_pct is None else f"{summary.availability_pct:.3f} %"


def _summary_lines(summary: Summary, over: str = "the period") -> list[str]:
    availability = _pct(summary)
    mttr = "n/a (no closed outage)" if summary.mttr_s is None else human_duration(summary.mttr_s)
    return [
        f"Windows:      {summary.count} ({summary.planned_count} planned)",
        f"Downtime:     {human_duration(summary.downtime_s)} (longest {human_duration(summary.longest_s)})",
        f"Planned:      {human_duration(summary.planned_s)} (excluded from availability)",
        f"MTTR:         {mttr} (over {summary.closed_unplanned} closed unplanned windows)",
        f"Availability: {availability} ({over} minus planned maintenance)",
    ]


def _cause_line(cause: SignalReading | None) -> str:
    if cause is None:
        return NO_CAUSE
    text = printable(" ".join(cause.summary().split()))
    return text if len(text) <= CAUSE_WIDTH else text[: CAUSE_WIDTH - 1] + "…"


def _table_line(row: WindowInPeriod) -> str:
    start = utc_text(row.start) + ("*" if row.clipped_start else " ")
    end = "open (until now)" if row.window.is_open else utc_text(row.end) + ("*" if row.clipped_end else " ")
    reason = printable(row.window.reason.replace("\n", " "))
    reason = reason if len(reason) <= REASON_WIDTH else reason[: REASON_WIDTH - 1] + "…"
    planned = "yes" if row.window.planned else "no"
    return f"{start:<24} {end:<24} {human_duration(row.duration_s):<14} {planned:<8} {reason}"
