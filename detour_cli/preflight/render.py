"""Preflight's report for people (pass / warn / fail per check, each failure with its fix) and for
scripts (--format json)."""

from __future__ import annotations

import textwrap
from typing import Any

from detour_cli.output import Style
from detour_cli.preflight.probe import ProbePlan
from detour_cli.preflight.result import Result, Status
from detour_cli.preflight.run import SiteReport

WIDTH = 100
LABELS = {
    Status.PASS: ("PASS", "green"),
    Status.WARN: ("WARN", "yellow"),
    Status.FAIL: ("FAIL", "red"),
    Status.INFO: ("INFO", "dim"),
    Status.ERROR: ("ERROR", "red"),
}
COMMANDS = ("aws ", "sam ", "curl ", "dig ", "detour ")  # printed whole, never wrapped: they are copied
INDENT = " " * 21  # under the title: "  FAIL  certificate  "


def describe(report: SiteReport) -> str:
    settings = report.settings
    if settings is None:
        return report.label
    plan = ProbePlan.from_config(settings.health_check)
    where = f"deployed as stack {settings.site_stack}" if settings.deployed else "a site not yet added"
    return (
        f"{settings.domain} ({where}): zone {settings.zone_id}, primary {settings.primary_kind} "
        f"{settings.primary_target}, health check {plan.protocol} port {plan.port}"
        + (f" {plan.path}" if plan.http else "")
    )


def _lines(text: str, first: str, style: Style) -> list[str]:
    out = []
    for index, line in enumerate(text.split("\n")):
        lead = first if index == 0 else INDENT
        if line.startswith(COMMANDS):
            out.append(lead + style(line, "bold"))
        else:
            out += textwrap.wrap(
                line,
                WIDTH,
                initial_indent=lead,
                subsequent_indent=INDENT,
                break_on_hyphens=False,
                break_long_words=False,
            ) or [lead]
    return out


def render_result(result: Result, style: Style) -> list[str]:
    label, colour = LABELS[result.status]
    column = result.check.split(":", 1)[0]  # signal-alarm:NAME: the name is in the title
    lines = _lines(result.title, f"  {style(f'{label:<5}', colour, 'bold')} {column:<12} ", style)
    for line in result.detail:
        lines += _lines(line, INDENT, style)
    if result.fix and result.status in (Status.FAIL, Status.WARN, Status.ERROR):
        lines += _lines("fix: " + result.fix, INDENT, style)
    return lines


def render_site(report: SiteReport, style: Style) -> str:
    lines = [style(f"preflight: {describe(report)}", "bold")]
    if report.error:
        lines.append(f"  {style('ERROR', 'red', 'bold')} {report.error}")
    for note in report.settings.notes if report.settings else []:
        lines += _lines(note, "  ", style)
    for result in report.results:
        lines += render_result(result, style)
    return "\n".join(lines)


def verdict(reports: list[SiteReport]) -> str:
    results = [result for report in reports for result in report.results]
    counts = {status: sum(r.status == status for r in results) for status in Status}
    unread = sum(bool(report.error) for report in reports)
    parts = [
        f"{counts[Status.FAIL]} failed",
        f"{counts[Status.WARN]} warning{'s' if counts[Status.WARN] != 1 else ''}",
        f"{counts[Status.PASS]} passed",
    ]
    if counts[Status.ERROR] or unread:
        parts.append(f"{counts[Status.ERROR] + unread} could not be checked")
    sites = f" across {len(reports)} sites" if len(reports) > 1 else ""
    if counts[Status.ERROR] or unread:
        ending = "preflight is incomplete"
    elif counts[Status.FAIL]:
        ending = (
            "fix each failure before deploying"
            if not any(r.settings and r.settings.deployed for r in reports)
            else "fix each failure"
        )
    else:
        ending = "nothing stands in the way" if not counts[Status.WARN] else "nothing fails; read the warnings"
    return f"{', '.join(parts)}{sites}: {ending}"


def render(reports: list[SiteReport], style: Style) -> str:
    return "\n\n".join([*(render_site(report, style) for report in reports), verdict(reports)])


def as_json(reports: list[SiteReport], exit_code: int) -> dict[str, Any]:
    return {
        "exit_code": exit_code,
        "sites": [
            {
                "domain": report.settings.domain if report.settings else report.label,
                "site_stack": (report.settings.site_stack or None) if report.settings else None,
                "deployed": bool(report.settings and report.settings.deployed),
                "worst": str(report.worst),
                "error": report.error or None,
                "notes": list(report.settings.notes) if report.settings else [],
                "checks": [result.as_json() for result in report.results],
            }
            for report in reports
        ],
    }
