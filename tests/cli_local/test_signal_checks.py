"""The rehearsal's Route 53 for failover signals: an alarm-backed check follows its alarm (and, without
data, its InsufficientDataHealthStatus), a calculated check its children and HealthThreshold."""

from __future__ import annotations

import pytest

from detour_cli.local.emulated_stack import EmulatedHealthCheck
from detour_cli.local.signal_checks import SiteChecks, calculated_healthy, metric_check_healthy

ENDPOINT = EmulatedHealthCheck("HealthCheck", "hc-endpoint", {"Type": "HTTP", "Port": 80})
ALARM_NAME = "detour/detour-site-shop/error-rate"


def signal(
    insufficient: str = "LastKnownStatus", check_id: str = "hc-5xx", alarm: str = ALARM_NAME
) -> EmulatedHealthCheck:
    config = {
        "Type": "CLOUDWATCH_METRIC",
        "AlarmIdentifier": {"Name": alarm, "Region": "us-east-1"},
        "InsufficientDataHealthStatus": insufficient,
    }
    return EmulatedHealthCheck("ErrorRateCheck", check_id, config)


def calculated(children: list[str], threshold: int) -> EmulatedHealthCheck:
    config = {"Type": "CALCULATED", "ChildHealthChecks": children, "HealthThreshold": threshold}
    return EmulatedHealthCheck("FailoverCheck", "hc-failover", config)


@pytest.mark.parametrize(
    ("state", "insufficient", "last_known", "expected"),
    [
        ("OK", "Unhealthy", False, True),  # data decides, whatever the setting
        ("ALARM", "Healthy", True, False),
        ("INSUFFICIENT_DATA", "Healthy", False, True),
        ("INSUFFICIENT_DATA", "Unhealthy", True, False),
        ("INSUFFICIENT_DATA", "LastKnownStatus", False, False),
        ("INSUFFICIENT_DATA", "LastKnownStatus", True, True),
        ("INSUFFICIENT_DATA", "LastKnownStatus", None, True),  # never had data: a new check is healthy
    ],
)
def test_an_alarm_backed_check_follows_its_alarm_and_without_data_its_setting(
    state: str, insufficient: str, last_known: bool | None, expected: bool
) -> None:
    assert metric_check_healthy(state, insufficient, last_known) is expected


@pytest.mark.parametrize(
    ("children", "threshold", "expected"),
    [
        ([True, True], 2, True),
        ([True, False], 2, False),  # SignalsToFailOver 1 of 2 checks: any failing child fails it over
        ([True, False], 1, True),  # SignalsToFailOver 2: one failing child is not enough
        ([False, False], 1, False),
        ([False, False, True], 1, True),
        ([False, False], 0, True),  # 0: always healthy (what the site template's rules prevent)
        ([True, True], 3, False),  # more than its children: never healthy
    ],
)
def test_a_calculated_check_is_healthy_while_at_least_its_threshold_of_children_are(
    children: list[bool], threshold: int, expected: bool
) -> None:
    assert calculated_healthy(children, threshold) is expected


def test_the_failover_check_follows_the_endpoint_and_the_5xx_rate() -> None:
    endpoint: dict[str, bool | None] = {"hc-endpoint": True}
    checks = SiteChecks([ENDPOINT, signal(), calculated(["hc-endpoint", "hc-5xx"], 2)], endpoint.get)

    checks.alarms_are({ALARM_NAME: "OK"})
    assert checks.healthy("hc-failover") is True
    failover = checks.status("hc-failover")
    assert failover is not None
    assert failover.because == "2 of 2 children healthy, needs 2"

    checks.alarms_are({ALARM_NAME: "ALARM"})  # the 5xx rate alone, the endpoint still passing
    assert (checks.healthy("hc-endpoint"), checks.healthy("hc-5xx"), checks.healthy("hc-failover")) == (
        True,
        False,
        False,
    )

    checks.alarms_are({ALARM_NAME: "OK"})
    endpoint["hc-endpoint"] = False  # the endpoint alone
    assert (checks.healthy("hc-5xx"), checks.healthy("hc-failover")) == (True, False)
    assert checks.healthy("hc-elsewhere") is None  # not this site's


def test_insufficient_data_keeps_the_last_known_status_or_follows_the_setting() -> None:
    endpoint = {"hc-endpoint": True}
    checks = SiteChecks(
        [
            ENDPOINT,
            signal("LastKnownStatus"),
            signal("Healthy", "hc-healthy", "a-healthy"),
            signal("Unhealthy", "hc-unhealthy", "a-unhealthy"),
        ],
        endpoint.get,
    )
    checks.alarms_are({})  # no alarm read yet, or the alarm is gone: INSUFFICIENT_DATA
    assert [checks.healthy(c) for c in ("hc-5xx", "hc-healthy", "hc-unhealthy")] == [True, True, False]
    status = checks.status("hc-5xx")
    assert status is not None
    assert status.because == "alarm INSUFFICIENT_DATA, InsufficientDataHealthStatus LastKnownStatus"

    checks.alarms_are({ALARM_NAME: "ALARM", "a-healthy": "ALARM", "a-unhealthy": "OK"})
    assert [checks.healthy(c) for c in ("hc-5xx", "hc-healthy", "hc-unhealthy")] == [False, False, True]

    checks.alarms_are({name: "INSUFFICIENT_DATA" for name in (ALARM_NAME, "a-healthy", "a-unhealthy")})
    assert [checks.healthy(c) for c in ("hc-5xx", "hc-healthy", "hc-unhealthy")] == [False, True, False]


def test_an_endpoint_not_yet_probed_counts_as_healthy_in_the_calculated_check() -> None:
    checks = SiteChecks([ENDPOINT, signal(), calculated(["hc-endpoint", "hc-5xx"], 2)], lambda _: None)
    checks.alarms_are({ALARM_NAME: "OK"})
    assert checks.healthy("hc-endpoint") is None
    assert checks.healthy("hc-failover") is True
