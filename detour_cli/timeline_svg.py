"""The failover windows of a period drawn on a timeline, as a hand-written SVG (no dependency):
one bar per window, red for outages and blue for planned maintenance, with a tooltip each."""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from detour.slack.message import human_duration
from detour_cli.availability import Period, WindowInPeriod
from detour_cli.output import printable

WIDTH, HEIGHT = 960, 150
LEFT, RIGHT, BAR_TOP, BAR_HEIGHT = 40, 40, 50, 40
TICKS = 6
COLOURS = {False: "#c0392b", True: "#2c7fb8"}  # unplanned, planned


def timeline_svg(period: Period, rows: list[WindowInPeriod], title: str) -> str:
    span = WIDTH - LEFT - RIGHT

    def x(moment: datetime) -> float:
        offset = (moment - period.start).total_seconds()
        return LEFT + span * offset / period.seconds

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="24" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<rect class="period" x="{LEFT}" y="{BAR_TOP}" width="{span}" height="{BAR_HEIGHT}" fill="#e8f5e9"/>',
    ]
    for row in rows:
        left = x(row.start)
        width = max(x(row.end) - left, 2.0)  # a short outage in a long period stays visible
        planned = row.window.planned
        kind = "planned" if planned else "unplanned"
        tooltip = (
            f"{row.start:%Y-%m-%d %H:%M:%S} to {row.end:%Y-%m-%d %H:%M:%S} UTC, "
            f"{human_duration(row.duration_s)}, {kind}{', still open' if row.window.is_open else ''}"
            f"{': ' + printable(row.window.reason) if row.window.reason else ''}"
        )
        parts.append(
            f'<rect class="window {kind}" x="{left:.2f}" y="{BAR_TOP}" width="{width:.2f}" '
            f'height="{BAR_HEIGHT}" fill="{COLOURS[planned]}"><title>{escape(tooltip)}</title></rect>'
        )
    axis_y = BAR_TOP + BAR_HEIGHT
    parts.append(f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}" stroke="#333"/>')
    for i in range(TICKS + 1):
        moment = period.start + timedelta(seconds=period.seconds * i / TICKS)
        tick_x = x(moment)
        label = f"{moment:%Y-%m-%d}" if period.seconds > 2 * 86400 else f"{moment:%m-%d %H:%M}"
        parts.append(f'<line x1="{tick_x:.2f}" y1="{axis_y}" x2="{tick_x:.2f}" y2="{axis_y + 5}" stroke="#333"/>')
        parts.append(f'<text x="{tick_x:.2f}" y="{axis_y + 20}" text-anchor="middle">{escape(label)}</text>')
    legend_y = HEIGHT - 12
    parts.append(f'<rect x="{LEFT}" y="{legend_y - 10}" width="12" height="12" fill="{COLOURS[False]}"/>')
    parts.append(f'<text x="{LEFT + 18}" y="{legend_y}">outage</text>')
    parts.append(f'<rect x="{LEFT + 90}" y="{legend_y - 10}" width="12" height="12" fill="{COLOURS[True]}"/>')
    parts.append(f'<text x="{LEFT + 108}" y="{legend_y}">planned maintenance</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
