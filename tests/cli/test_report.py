"""`detour report` on windows recorded the way log_window records them (alarm transitions), in moto."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from detour.incidents.transition import format_time
from detour.signals.causes import CauseLog
from detour.signals.states import SignalReading, SignalState
from detour.slack.message import human_duration
from tests.cli.world import ALARM, DOMAIN, OTHER_DOMAIN, World

SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Period:
    """A ten-day period twenty days ago, and windows around and inside it."""

    start: datetime
    end: datetime

    def args(self) -> tuple[str, ...]:
        return ("--since", self.start.isoformat(), "--until", self.end.isoformat())


@pytest.fixture
def period(world: World) -> Period:
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=20)
    end = start + timedelta(days=10)
    world.outage(start - timedelta(days=5), start - timedelta(days=4), reason="before the period")
    world.outage(start - timedelta(hours=1), start + timedelta(minutes=30), reason="straddles the start")
    world.outage(start + timedelta(days=2), start + timedelta(days=2, minutes=64), reason="inside")
    world.outage(start + timedelta(days=3), start + timedelta(days=3, hours=2), reason="database upgrade", planned=True)
    world.outage(end - timedelta(minutes=20), end + timedelta(minutes=40), reason="straddles the end")
    world.outage(end + timedelta(days=1), end + timedelta(days=1, hours=1), reason="after the period")
    return Period(start, end)


# What the period above must add up to, from the windows' definitions (minutes inside the period).
UNPLANNED_IN_PERIOD = [30, 64, 20]
PLANNED_IN_PERIOD = 120
WHOLE_CLOSED_UNPLANNED = [90, 64, 60]  # MTTR uses whole windows, also where they cross an edge


def report_json(run: Any, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run("report", "--format", "json", *args)
    assert code != 2, err
    return code, json.loads(out)


def test_windows_are_clipped_to_the_period_and_planned_ones_are_marked(run: Any, period: Period) -> None:
    code, report = report_json(run, *period.args())
    assert code == 0
    windows = report["windows"]
    assert [w["reason"] for w in windows] == ["straddles the start", "inside", "database upgrade", "straddles the end"]
    first, last = windows[0], windows[-1]
    assert first["start_in_period"] == format_time(period.start)
    assert first["started_at"] == format_time(period.start - timedelta(hours=1))
    assert last["end_in_period"] == format_time(period.end)
    assert last["ended_at"] == format_time(period.end + timedelta(minutes=40))
    assert [w["duration_s"] for w in windows] == [m * 60 for m in [30, 64, PLANNED_IN_PERIOD, 20]]
    assert [w["planned"] for w in windows] == [False, False, True, False]
    assert windows[1]["duration"] == "1 h 4 min"
    assert report["domain"] == DOMAIN


def test_the_summary_excludes_planned_maintenance_from_availability(run: Any, period: Period) -> None:
    _, report = report_json(run, *period.args())
    summary = report["summary"]
    period_s = (period.end - period.start).total_seconds()
    downtime_s = sum(UNPLANNED_IN_PERIOD) * 60
    planned_s = PLANNED_IN_PERIOD * 60
    assert summary["count"] == 4
    assert summary["planned_count"] == 1
    assert summary["downtime_s"] == downtime_s
    assert summary["longest_s"] == max(UNPLANNED_IN_PERIOD) * 60
    assert summary["planned_s"] == planned_s
    assert summary["mttr_s"] == pytest.approx(sum(WHOLE_CLOSED_UNPLANNED) * 60 / 3, abs=0.001)
    expected = 100 * (period_s - planned_s - downtime_s) / (period_s - planned_s)
    assert summary["availability_pct"] == pytest.approx(expected, abs=0.0001)
    assert report["period"]["seconds"] == period_s


def test_an_open_window_counts_until_now_and_exits_1(run: Any, world: World) -> None:
    started = datetime.now(UTC) - timedelta(minutes=15)
    world.outage(started, None, reason="primary down")
    code, report = report_json(run, "--since", "1h")
    assert code == 1
    (window,) = report["windows"]
    assert window["open"] is True
    assert window["ended_at"] is None
    assert 15 * 60 <= window["duration_s"] < 16 * 60
    assert report["summary"]["mttr_s"] is None  # an open window is not a repair yet
    assert report["summary"]["downtime_s"] == window["duration_s"]

    code, text, _ = run("report", "--since", "1h")
    assert code == 1
    assert "open (until now)" in text


def test_csv_has_one_row_per_window(run: Any, period: Period) -> None:
    code, out, _ = run("report", "--format", "csv", *period.args())
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 4
    assert [float(r["duration_s"]) for r in rows] == [m * 60.0 for m in [30, 64, PLANNED_IN_PERIOD, 20]]
    assert [r["planned"] for r in rows] == ["false", "false", "true", "false"]
    assert {r["open"] for r in rows} == {"false"}
    assert rows[0]["start_in_period"] == format_time(period.start)
    assert rows[2]["reason"] == "database upgrade"


def test_the_table_shows_durations_clipping_and_availability(run: Any, period: Period) -> None:
    code, text, _ = run("report", *period.args())
    assert code == 0
    assert "\033[" not in text
    assert text.count("1 h 4 min") >= 1
    assert "* clipped at the period's edge" in text
    assert f"Downtime:     {human_duration(sum(UNPLANNED_IN_PERIOD) * 60)}" in text
    _, report = report_json(run, *period.args())
    assert f"Availability: {report['summary']['availability_pct']:.3f} %" in text
    assert "Windows:      4 (1 planned)" in text


def test_the_svg_chart_has_one_bar_per_window_in_time_order(run: Any, period: Period, tmp_path: Path) -> None:
    chart = tmp_path / "windows.svg"
    code, _, err = run("report", "--chart", str(chart), "--format", "json", *period.args())
    assert code == 0, err
    root = ET.parse(chart).getroot()  # noqa: S314 - our own file
    assert root.tag == f"{SVG}svg"
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class", "").startswith("window")]
    assert len(bars) == 4
    assert [b.get("class") for b in bars].count("window planned") == 1
    xs = [float(b.get("x", "0")) for b in bars]
    assert xs == sorted(xs)
    span = float(root.get("width", "0")) - 80  # the axis, inside the margins
    longest = max(bars, key=lambda b: float(b.get("width", "0")))
    assert longest.get("class") == "window planned"  # the 2 h maintenance is the widest bar
    assert float(longest.get("width", "0")) == pytest.approx(span * 2 / (10 * 24), abs=0.01)
    assert "database upgrade" in (longest.findtext(f"{SVG}title") or "")


def test_no_windows_is_a_clean_report(run: Any, world: World) -> None:
    code, report = report_json(run)
    assert code == 0
    assert report["windows"] == []
    assert report["summary"]["availability_pct"] == 100.0
    assert report["summary"]["mttr_s"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--chart", "windows.png"), "only SVG is supported"),
        (("--since", "last tuesday"), "cannot read the time 'last tuesday'"),
        (("--since", "1d", "--until", "2d"), "must be before --until"),
        (("--format", "xml"), "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_a_reason(run: Any, aws: str, args: tuple[str, ...], message: str) -> None:
    code, out, err = run("report", *args)
    assert code == 2
    assert out == ""
    assert message in err


def test_a_missing_stack_exits_2(run: Any, aws: str) -> None:
    code, _, err = run("report", "--stack", "nowhere")
    assert code == 2
    assert "no stack nowhere" in err


def test_help_documents_exit_codes(run: Any) -> None:
    code, out, _ = run("report", "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert "Exit codes: 0 ok; 1 a failover window in the period is still open" in flat
    assert "--chart" in out


def test_an_unwritable_chart_exits_2_and_says_where(run: Any, world: World, tmp_path: Path) -> None:
    chart = tmp_path / "missing-folder" / "windows.svg"
    code, _, err = run("report", "--chart", str(chart))
    assert code == 2
    assert f"cannot write the chart {chart}" in err


def test_alarm_text_with_control_characters_cannot_break_the_chart_or_the_terminal(
    run: Any, world: World, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    world.outage(now - timedelta(hours=3), now - timedelta(hours=2), reason="bad\x1b[31m\x00 text </title><x>")
    chart = tmp_path / "windows.svg"
    code, out, _ = run("report", "--chart", str(chart))
    assert code == 0
    ET.parse(chart)  # noqa: S314 - our own file: still well-formed XML
    assert "\x1b" not in out
    assert "bad[31m text </title><x>" in out


def test_a_period_reaching_into_the_future_ends_now(run: Any, world: World) -> None:
    code, out, _ = run("report", "--since", "2d", "--until", "2999-01-01", "--format", "json")
    assert code == 0
    until = datetime.fromisoformat(json.loads(out)["period"]["until"].replace("Z", "+00:00"))
    assert until <= datetime.now(UTC)


# -- several sites ------------------------------------------------------------------------------------


def test_with_several_sites_each_is_reported_then_the_total(
    run: Any, period: Period, other_site: World, tmp_path: Path
) -> None:
    # api.detour.test: one unplanned hour inside the period, and one still open now
    other_site.outage(period.start + timedelta(days=5), period.start + timedelta(days=5, hours=1), reason="api down")
    code, report = report_json(run, *period.args())
    assert code == 0
    by_domain = {site["domain"]: site for site in report["sites"]}
    assert set(by_domain) == {DOMAIN, OTHER_DOMAIN}
    assert by_domain[DOMAIN]["summary"]["count"] == 4
    assert by_domain[OTHER_DOMAIN]["summary"]["downtime_s"] == 3600
    assert by_domain[OTHER_DOMAIN]["site_stack"] == "detour-site-api"
    total = report["total"]
    assert (total["sites"], total["count"], total["planned_count"]) == (2, 5, 1)
    assert total["downtime_s"] == (sum(UNPLANNED_IN_PERIOD) + 60) * 60
    assert total["mttr_s"] == sum([*WHOLE_CLOSED_UNPLANNED, 60]) * 60 / 4
    scheduled = 2 * (period.end - period.start).total_seconds() - PLANNED_IN_PERIOD * 60
    assert total["availability_pct"] == round(100 * (scheduled - total["downtime_s"]) / scheduled, 4)

    code, text, _ = run("report", *period.args())
    assert code == 0
    assert f"Failover windows of {DOMAIN} (site stack detour-site-www, hub detour)" in text
    assert f"Failover windows of {OTHER_DOMAIN} (site stack detour-site-api, hub detour)" in text
    assert "Total over 2 sites (hub detour)" in text
    assert f"  {OTHER_DOMAIN}: 1 window, downtime 1 h" in text
    assert "Windows:      5 (1 planned)" in text
    assert f"Availability: {total['availability_pct']:.3f} % (the sites' periods together" in text

    code, out, _ = run("report", "--format", "csv", *period.args())
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["domain"] for r in rows].count(OTHER_DOMAIN) == 1
    assert {r["site"] for r in rows} == {by_domain[DOMAIN]["site"], other_site.check_id}

    other_site.outage(datetime.now(UTC) - timedelta(minutes=5), None)  # an open window at one site: exit 1
    assert run("report", "--since", "1h")[0] == 1

    code, _, err = run("report", "--chart", str(tmp_path / "c.svg"))
    assert code == 2
    assert "--chart draws one site: say which with --site (api.detour.test, www.detour.test)" in err


def test_site_reports_one_site_of_several(run: Any, period: Period, other_site: World) -> None:
    code, report = report_json(run, "--site", "detour-site-api", *period.args())
    assert (code, report["domain"], report["windows"]) == (0, OTHER_DOMAIN, [])
    code, report = report_json(run, "--site", "detour api", *period.args())
    assert (code, report["domain"]) == (0, OTHER_DOMAIN)
    code, report = report_json(run, "--site", "WWW.detour.test", *period.args())
    assert (code, report["domain"], report["summary"]["count"]) == (0, DOMAIN, 4)


def test_each_window_shows_its_recorded_cause_or_that_none_was_recorded(run: Any, world: World) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    old, new = now - timedelta(days=3), now - timedelta(hours=5)
    world.outage(old, old + timedelta(minutes=10), reason="before causes were recorded")
    world.outage(new, new + timedelta(minutes=7), reason="Threshold Crossed: the failover check")
    reason = "Threshold Crossed: 3 datapoints [12.5, 9.0, 7.1] were greater than the threshold (5.0)."
    reading = SignalReading(
        read_at=new,
        states=(
            SignalState("endpoint probe", "endpoint", True, "passing from all 3 checker regions"),
            SignalState("checkout-errors", "alarm", True, "OK", "detour/detour-site-www/checkout-errors"),
            SignalState("error-rate", "error-rate", False, f"ALARM: {reason}", "detour/detour-site-www/error-rate"),
        ),
    )
    CauseLog(world.table_name, boto3.client("dynamodb")).claim(world.check_id, f"{format_time(new)}#{ALARM}", reading)

    code, text, _ = run("report", "--since", "7d")
    assert code == 0
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if "before causes were recorded" in line)
    second = next(i for i, line in enumerate(lines) if "Threshold Crossed: the failover check" in line)
    assert lines[first + 1] == "  cause: cause not recorded"
    assert lines[second + 1] == f"  cause: 5xx rate: ALARM: {reason}"

    _, report = report_json(run, "--since", "7d")
    assert [w["cause"] for w in report["windows"]] == [None, f"5xx rate: ALARM: {reason}"]

    code, out, _ = run("report", "--since", "7d", "--format", "csv")
    assert [row["cause"] for row in csv.DictReader(io.StringIO(out))] == ["", f"5xx rate: ALARM: {reason}"]
