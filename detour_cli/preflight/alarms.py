"""Signal alarms (--signal-alarm): alarms that are to back a Route 53 health check. Route 53 takes
an alarm only if it is a metric alarm on a standard-resolution metric with a simple statistic.

Route 53 API Reference, AlarmIdentifier (docs.aws.amazon.com/Route53/latest/APIReference/
API_AlarmIdentifier.html), checked 2026-11: "Route 53 supports CloudWatch alarms with the following
features: Standard-resolution metrics. High-resolution metrics aren't supported. Statistics:
Average, Minimum, Maximum, Sum, and SampleCount. Extended statistics aren't supported." An alarm on
a metric-math expression (`Metrics` instead of one metric) has no single metric and statistic, so it
is refused too (a composite alarm likewise). Detour keeps everything in us-east-1, so the alarm must
be there (AlarmIdentifier names its region; ours is always us-east-1).

Detour's own alarms (named `<hub>/...`) are refused as signals: a site's primary-health alarm watches the
check the signal would feed (the site would hold itself failed over), and the 5xx rate has its own
parameter (ErrorRateSignal).
"""

from __future__ import annotations

import shlex
from typing import Any

from detour_cli.output import printable
from detour_cli.preflight.result import Result, failed, passed
from detour_cli.preflight.settings import REGION

CHECK = "signal-alarm"
SIMPLE_STATISTICS = ("Average", "Minimum", "Maximum", "Sum", "SampleCount")
STANDARD_PERIOD_S = 60


def alarm_region_and_name(given: str) -> tuple[str, str]:
    """An alarm's name, or its ARN (arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME)."""
    parts = given.split(":", 6)
    if given.startswith("arn:") and len(parts) == 7 and parts[5] == "alarm":
        return parts[3], parts[6]
    return REGION, given


def check_id(given: str) -> str:
    """signal-alarm:NAME: each alarm's result has its own id, errors included."""
    return f"{CHECK}:{printable(alarm_region_and_name(given)[1])}"


def check_signal_alarm(cloudwatch: Any, given: str, hub: str = "") -> Result:
    """One signal alarm (SignalAlarm1..3, or --signal-alarm); `hub` is the site's HubStackName."""
    region, name = alarm_region_and_name(given)
    check = check_id(given)
    name = printable(name)  # a name with control characters is shown without them
    if hub and name.startswith(f"{hub}/"):
        return failed(
            check,
            f"{name} is one of Detour's own alarms (hub {hub}): a site's primary-health alarm watches the check a "
            "signal feeds, so the site would hold itself failed over",
            "name an alarm of your own; for the target 5xx rate use --error-rate-signal On",
        )
    if region != REGION:
        return failed(
            check,
            f"alarm {name} is in {region}: Detour's health checks and alarms live in {REGION}",
            f"create the alarm in {REGION}:\n"
            f"aws cloudwatch put-metric-alarm --region {REGION} --alarm-name {shlex.quote(name)} ...",
        )
    described = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    if described.get("CompositeAlarms"):
        return failed(
            check,
            f"{name} is a composite alarm: a Route 53 health check takes one metric alarm",
            "name the metric alarms it combines instead, one --signal-alarm each",
        )
    alarms = described.get("MetricAlarms", [])
    if not alarms:
        return failed(
            check,
            f"no alarm {name} in {REGION}",
            "check the name:\n"
            f"aws cloudwatch describe-alarms --region {REGION} --alarm-name-prefix {shlex.quote(name[:20])}",
        )
    alarm = alarms[0]
    problem = _unusable(alarm)
    if problem:
        return failed(check, f"alarm {name} cannot back a Route 53 health check: {problem[0]}", problem[1])
    return passed(
        check,
        f"alarm {name}: {alarm['Statistic']} of {alarm.get('Namespace', '?')} {alarm.get('MetricName', '?')} "
        f"over {alarm['Period']} s, standard resolution, in {REGION}: usable by a health check",
    )


def _unusable(alarm: dict[str, Any]) -> tuple[str, str] | None:
    if alarm.get("Metrics"):
        return (
            "it is a metric-math alarm",
            "alarm on one metric with a simple statistic instead (for a 5xx rate: an alarm on "
            "HTTPCode_Target_5XX_Count's Sum, or publish the rate as a metric of its own)",
        )
    if alarm.get("ExtendedStatistic"):
        return (
            f"its statistic {alarm['ExtendedStatistic']} is an extended statistic (a percentile)",
            f"use one of {', '.join(SIMPLE_STATISTICS)} (e.g. Average latency instead of p99)",
        )
    if alarm.get("Statistic") not in SIMPLE_STATISTICS:
        return (
            f"its statistic {alarm.get('Statistic')!r} is not one Route 53 takes",
            f"use one of {', '.join(SIMPLE_STATISTICS)}",
        )
    if int(alarm.get("Period", 0)) < STANDARD_PERIOD_S:
        return (
            f"its period is {alarm.get('Period')} s: a high-resolution alarm",
            f"give it a period of {STANDARD_PERIOD_S} s or more (put-metric-alarm --period 60)",
        )
    return None
