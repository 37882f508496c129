"""Reading a site's checks (detour.signals.states): Route 53's checker verdicts and CloudWatch's alarm
states turned into what Slack, the page and the CLI say. Clients are stand-ins with AWS's shapes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from detour.incidents.sites import Signal, SignalKind
from detour.signals.states import SignalReading, SignalsUnreadable, read_signals
from tests.support.sites import SITE

NOW = datetime(2026, 11, 21, 2, 15, tzinfo=UTC)
SUCCESS = "Success: HTTP Status Code 200, OK"
FAILURE = "Failure: HTTP Status Code 503, Service Unavailable. Resolved IP: 203.0.113.10"


class Route53:
    def __init__(self, reports: list[str], error: Exception | None = None) -> None:
        self.reports, self.error = reports, error

    def get_health_check_status(self, HealthCheckId: str) -> dict[str, Any]:
        if self.error:
            raise self.error
        return {"HealthCheckObservations": [{"Region": "r", "StatusReport": {"Status": r}} for r in self.reports]}


class CloudWatch:
    def __init__(self, alarms: dict[str, tuple[str, str]]) -> None:
        self.alarms, self.calls = alarms, 0

    def describe_alarms(self, AlarmNames: list[str]) -> dict[str, Any]:
        self.calls += 1
        return {
            "MetricAlarms": [
                {"AlarmName": n, "StateValue": self.alarms[n][0], "StateReason": self.alarms[n][1]}
                for n in AlarmNames
                if n in self.alarms
            ]
        }


def site(*alarms: str, insufficient: str = "LastKnownStatus") -> Any:
    signals = tuple(Signal(a, SignalKind.ALARM, a, f"hc-{a}") for a in alarms)
    return replace(SITE, signals=signals, signal_insufficient_data=insufficient)


@pytest.mark.parametrize(
    ("reports", "healthy", "detail"),
    [
        ([SUCCESS] * 8, True, "passing from all 8 checker regions"),
        ([FAILURE] * 6 + [SUCCESS] * 2, True, "failing from 6 of 8 checker regions"),  # 25 % > 18 %: healthy
        ([FAILURE] * 7 + [SUCCESS], False, "failing from 7 of 8 checker regions"),  # 12.5 %: unhealthy
        ([], None, "no checker has reported yet"),
    ],
)
def test_the_endpoint_probe_follows_route53s_18_percent_rule(
    reports: list[str], healthy: bool | None, detail: str
) -> None:
    (endpoint,) = read_signals(site(), Route53(reports), CloudWatch({}), NOW).states
    assert (endpoint.healthy, endpoint.detail.split(" (")[0]) == (healthy, detail)
    if reports and not healthy:
        assert "HTTP Status Code 503" in endpoint.detail  # what a checker saw, for the operator


@pytest.mark.parametrize(("setting", "healthy"), [("Healthy", True), ("Unhealthy", False), ("LastKnownStatus", None)])
def test_missing_data_means_what_the_site_chose(setting: str, healthy: bool | None) -> None:
    cloudwatch = CloudWatch({"canary": ("INSUFFICIENT_DATA", "no datapoints")})
    _, canary = read_signals(site("canary", insufficient=setting), Route53([SUCCESS]), cloudwatch, NOW).states
    assert canary.healthy is healthy


def test_all_alarms_are_read_in_one_call_and_a_missing_one_is_unknown_not_healthy() -> None:
    cloudwatch = CloudWatch({"latency": ("ALARM", "p99 above 2 s"), "canary": ("OK", "fine")})
    reading = read_signals(site("latency", "canary", "deleted"), Route53([SUCCESS]), cloudwatch, NOW)
    assert cloudwatch.calls == 1
    assert [(s.name, s.healthy) for s in reading.states] == [
        ("endpoint probe", True),
        ("latency", False),
        ("canary", True),
        ("deleted", None),
    ]
    assert reading.summary() == "latency: ALARM: p99 above 2 s"
    assert SignalReading.from_value(reading.to_value()) == reading  # what the table keeps


def test_nothing_failing_says_so_instead_of_blaming_a_check() -> None:
    reading = read_signals(site("canary"), Route53([SUCCESS]), CloudWatch({"canary": ("OK", "")}), NOW)
    assert reading.failing == ()
    assert reading.summary().startswith("no check was failing when Detour read them at 2026-11-21T02:15:00.000Z")


def test_a_refused_read_is_unreadable_and_names_what() -> None:
    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "GetHealthCheckStatus")
    with pytest.raises(SignalsUnreadable, match=f"Route 53 health check {SITE.site_id}: .*Rate exceeded"):
        read_signals(site(), Route53([], throttled), CloudWatch({}), NOW)


def test_a_long_reason_is_cut_for_slack_and_the_page() -> None:
    cloudwatch = CloudWatch({"canary": ("ALARM", "x" * 1000)})
    _, canary = read_signals(site("canary"), Route53([SUCCESS]), cloudwatch, NOW).states
    assert len(canary.detail) == 300
    assert canary.detail.endswith("…")
