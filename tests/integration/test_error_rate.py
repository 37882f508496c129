"""functions/error_rate end to end on moto's server: ALB metrics put under AWS/ApplicationELB, the
scheduled event in, Detour/TargetErrorRate per site read back out (ADR 0002): the 5xx visitors got
(the target group's and the balancer's own) over the balancer's requests, held for HOLD_MINUTES after a
failing run, a minute whose data has not arrived left unpublished until it settles, and a warning for a
site whose balancer has no requests at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest

from detour.incidents.sites import ErrorRate
from detour.signals.error_rate import HOLD_MINUTES, ErrorRateFailed
from detour_cli.local.lambda_runtime import LambdaContext
from tests.conftest import log_records
from tests.support.functions import load_function
from tests.support.sites import register_site

# The schedule fired at NOW: the finished minutes are the five before it.
NOW = (datetime.now(UTC) - timedelta(hours=1)).replace(second=0, microsecond=0)
MINUTES = [NOW - timedelta(minutes=back) for back in range(5, 0, -1)]
SHOP = ("targetgroup/shop-web/73e2d6bc24d8a067", "app/shop-alb/50dc6c495c0c9188")
DOCS = ("targetgroup/docs-web/0123456789abcdef", "app/docs-alb/fedcba9876543210")


def scheduled(at: datetime = NOW) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/detour-ErrorRateFunctionEveryMinute-1A2B3C4D"],
        "detail": {},
    }


def alb_dimensions(target: tuple[str, str]) -> list[dict[str, str]]:
    return [{"Name": "TargetGroup", "Value": target[0]}, {"Name": "LoadBalancer", "Value": target[1]}]


def balancer_dimensions(target: tuple[str, str]) -> list[dict[str, str]]:
    return [{"Name": "LoadBalancer", "Value": target[1]}]


def put_alb_minute(target: tuple[str, str], minute: datetime, requests: int, errors: int, elb_errors: int = 0) -> None:
    """What the ALB (one target group) reports for a minute, in two datapoints (its nodes report apart):
    the minute's Sum is what the function must see. RequestCount per target group and per balancer,
    HTTPCode_Target_5XX_Count per target group, HTTPCode_ELB_5XX_Count (the balancer's own 502/503/504)
    per balancer."""
    data = []
    for metric, dimensions, total in (
        ("RequestCount", alb_dimensions(target), requests),
        ("RequestCount", balancer_dimensions(target), requests),
        ("HTTPCode_Target_5XX_Count", alb_dimensions(target), errors),
        ("HTTPCode_ELB_5XX_Count", balancer_dimensions(target), elb_errors),
    ):
        if total == 0:
            continue  # the ALB publishes no datapoint for a count with nothing to count
        first = total // 2
        for offset, value in ((5, first), (41, total - first)):
            data.append(
                {
                    "MetricName": metric,
                    "Dimensions": dimensions,
                    "Timestamp": minute + timedelta(seconds=offset),
                    "Value": float(value),
                    "Unit": "Count",
                }
            )
    boto3.client("cloudwatch").put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)


def error_rate_of(target: tuple[str, str], min_requests: int = 20) -> ErrorRate:
    return ErrorRate(
        target_group=target[0], load_balancer=target[1], threshold_percent=5.0, minutes=3, min_requests=min_requests
    )


def register(table: str, name: str, index: int, error_rate: ErrorRate | None) -> None:
    register_site(
        table,
        site_id=f"{index:08d}-2222-4e5f-9a7b-0123456789ab",
        domain=f"{name}.example.com",
        site_name=name.title(),
        alarm_name=f"detour/detour-site-{name}/primary-health",
        stack_name=f"detour-site-{name}",
        error_rate=error_rate,
    )


def published(site_stack: str) -> dict[datetime, float]:
    """Detour/TargetErrorRate of the site, the Maximum of each minute, as the site's alarm reads it."""
    answer = boto3.client("cloudwatch").get_metric_statistics(
        Namespace="Detour",
        MetricName="TargetErrorRate",
        Dimensions=[{"Name": "Site", "Value": site_stack}],
        StartTime=MINUTES[0] - timedelta(minutes=30),
        EndTime=NOW + timedelta(minutes=30),
        Period=60,
        Statistics=["Maximum", "SampleCount"],
    )
    for point in answer["Datapoints"]:
        assert point["Unit"] == "Percent"
    return {point["Timestamp"].astimezone(UTC): point["Maximum"] for point in answer["Datapoints"]}


@pytest.fixture
def error_rate(function_env: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The function, with the registry of conftest (one site without the signal) and two with it:
    shop at 40 % target 5xx, docs at 1 %."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "detour-ErrorRateFunction-TEST")
    register(function_env.name, "shop", 1, error_rate_of(SHOP))
    register(function_env.name, "docs", 2, error_rate_of(DOCS))
    for minute in MINUTES:
        put_alb_minute(SHOP, minute, requests=200, errors=80)
        put_alb_minute(DOCS, minute, requests=300, errors=3)
    return load_function("error_rate", monkeypatch)


def invoke(module: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = module.lambda_handler(event, LambdaContext(function_name="detour-ErrorRateFunction-TEST"))
    return result


def test_the_emulator_sums_the_alb_datapoints_of_each_minute_as_cloudwatch_does(aws: str) -> None:
    """The premise of the tests below: moto's GetMetricData answers Sum per 60 s period for what was
    put (two datapoints a minute here), keyed by the period's start, and nothing for a target it
    has no data of."""
    put_alb_minute(SHOP, MINUTES[0], requests=200, errors=80)
    put_alb_minute(SHOP, MINUTES[2], requests=7, errors=0)
    stat = {"Namespace": "AWS/ApplicationELB", "Dimensions": alb_dimensions(SHOP)}
    answer = boto3.client("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {"Id": "r", "MetricStat": {"Metric": {**stat, "MetricName": "RequestCount"}, "Period": 60, "Stat": "Sum"}},
            {
                "Id": "e",
                "MetricStat": {
                    "Metric": {**stat, "MetricName": "HTTPCode_Target_5XX_Count"},
                    "Period": 60,
                    "Stat": "Sum",
                },
            },
            {
                "Id": "other",
                "MetricStat": {
                    "Metric": {**stat, "MetricName": "RequestCount", "Dimensions": alb_dimensions(DOCS)},
                    "Period": 60,
                    "Stat": "Sum",
                },
            },
        ],
        StartTime=MINUTES[0],
        EndTime=NOW,
    )
    results = {
        r["Id"]: {t.astimezone(UTC): v for t, v in zip(r["Timestamps"], r["Values"], strict=True)}
        for r in answer["MetricDataResults"]
    }
    assert results == {"r": {MINUTES[0]: 200.0, MINUTES[2]: 7.0}, "e": {MINUTES[0]: 80.0}, "other": {}}


def test_each_site_gets_the_rate_of_each_finished_minute(error_rate: ModuleType) -> None:
    result = invoke(error_rate, scheduled())
    assert result == {
        "sites": 2,
        "without_signal": 1,  # conftest's site
        "rates": {"detour-site-docs": [1.0] * 5, "detour-site-shop": [40.0] * 5},
    }
    assert published("detour-site-shop") == dict.fromkeys(MINUTES, 40.0)
    assert published("detour-site-docs") == dict.fromkeys(MINUTES, 1.0)
    assert published("detour-site-www") == {}  # the site without the signal


def test_the_rate_reads_back_through_get_metric_data_as_the_alarm_sees_it(error_rate: ModuleType) -> None:
    invoke(error_rate, scheduled())
    answer = boto3.client("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": "rate",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "Detour",
                        "MetricName": "TargetErrorRate",
                        "Dimensions": [{"Name": "Site", "Value": "detour-site-shop"}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=MINUTES[0],
        EndTime=NOW,
    )
    (rate,) = answer["MetricDataResults"]
    assert sorted(zip([t.astimezone(UTC) for t in rate["Timestamps"]], rate["Values"], strict=True)) == [
        (minute, 40.0) for minute in MINUTES
    ]


def test_quiet_minutes_are_0_and_empty_ones_once_settled(error_rate: ModuleType, function_env: Any) -> None:
    """A minute under the site's minimum of requests says nothing about the target: 0 %. A minute
    without data is 0 % too once it has settled (no traffic: the ALB publishes nothing), but not before:
    its data may still be on the way (MINUTES[2] ended 2 minutes before the run, MINUTES[4] as it ran)."""
    quiet = ("targetgroup/quiet-web/1111111111111111", "app/quiet-alb/2222222222222222")
    register(function_env.name, "quiet", 3, error_rate_of(quiet, min_requests=50))
    put_alb_minute(quiet, MINUTES[1], requests=49, errors=49)
    put_alb_minute(quiet, MINUTES[3], requests=50, errors=5)
    result = invoke(error_rate, scheduled())
    assert published("detour-site-quiet") == {MINUTES[0]: 0.0, MINUTES[1]: 0.0, MINUTES[3]: 10.0}
    assert result["rates"]["detour-site-quiet"] == [0.0, 0.0, 10.0]
    # the next runs: MINUTES[2] and then MINUTES[4] settle without data, and are published as 0 %
    for later in (1, 2, 3):
        invoke(error_rate, scheduled(NOW + timedelta(minutes=later)))
    assert published("detour-site-quiet") == {m: 10.0 if m == MINUTES[3] else 0.0 for m in MINUTES}


def test_a_retried_run_publishes_the_same_minutes_again(error_rate: ModuleType) -> None:
    """Lambda retries a failed run with the same event: the same minutes, the same values (the
    alarm's Maximum is unchanged), whatever the clock says by then."""
    invoke(error_rate, scheduled())
    invoke(error_rate, scheduled())
    assert published("detour-site-shop") == dict.fromkeys(MINUTES, 40.0)
    # the next run moves on by a minute and republishes the four it shares with this one; the minute
    # that ended as it ran (NOW) has no data yet, and is not published as 0 %
    invoke(error_rate, scheduled(NOW + timedelta(minutes=1)))
    assert published("detour-site-shop") == dict.fromkeys(MINUTES, 40.0)


def test_a_site_with_a_bad_dimension_fails_the_run_after_the_others_are_published(
    error_rate: ModuleType, function_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = ("targetgroup/broken-web", "app/broken-alb/3333333333333333")  # no id: not a dimension value
    register(function_env.name, "broken", 4, error_rate_of(broken))
    capsys.readouterr()
    with pytest.raises(ErrorRateFailed, match=r"1 of 3 sites was not published: detour-site-broken \(broken\.example"):
        invoke(error_rate, scheduled())
    assert published("detour-site-shop") == dict.fromkeys(MINUTES, 40.0)
    assert published("detour-site-docs") == dict.fromkeys(MINUTES, 1.0)
    assert published("detour-site-broken") == {}
    records = log_records(capsys.readouterr().out)
    (failed,) = [r for r in records if r["level"] == "ERROR"]
    assert failed["failed_site"] == "detour-site-broken"
    assert "targetgroup/broken-web" in failed["error"]
    shown = {r["site"]: r["minutes"] for r in records if r["message"] == "Published the site's target 5xx rate"}
    assert set(shown) == {"detour-site-shop", "detour-site-docs"}
    first = MINUTES[0].strftime("%Y-%m-%dT%H:%MZ")
    assert shown["detour-site-shop"][first] == {
        "published": 40.0,
        "rate": 40.0,
        "requests": 200.0,
        "5xx": 80.0,
        "target_5xx": 80.0,
        "elb_5xx": 0.0,
        "held_by": None,
    }
    assert all(r["service"] == "error_rate" for r in records)


def test_without_sites_with_the_signal_it_publishes_nothing(function_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_function("error_rate", monkeypatch)
    assert invoke(module, scheduled()) == {"sites": 0, "without_signal": 1, "rates": {}}
    assert boto3.client("cloudwatch").list_metrics(Namespace="Detour")["Metrics"] == []


# ---------------------------------------------------------------- late data, hard outages, wrong dimensions

LATE = ("targetgroup/late-web/4444444444444444", "app/late-alb/5555555555555555")


def test_a_minute_whose_data_has_not_arrived_is_left_unpublished_until_it_settles(
    error_rate: ModuleType, function_env: Any
) -> None:
    """The ALB's data for a minute arrives about a minute after it ends. A run must not publish the
    minutes it has no data for yet as 0 %: the alarm would see a 0 % newest minute in every evaluation
    and, needing all its minutes above the threshold, might never fire. Such a minute is published
    once it has data, or as 0 % once it has settled (3 minutes after it ended) without any. (4 % here,
    under the 5 % threshold: after a failing run the settled minute would be held, as any other.)"""
    register(function_env.name, "late", 5, error_rate_of(LATE))
    for minute in MINUTES[:3]:
        put_alb_minute(LATE, minute, requests=200, errors=8)
    invoke(error_rate, scheduled())
    assert published("detour-site-late") == dict.fromkeys(MINUTES[:3], 4.0)  # MINUTES[3:] not yet
    put_alb_minute(LATE, MINUTES[3], requests=200, errors=8)  # arrives
    invoke(error_rate, scheduled(NOW + timedelta(minutes=1)))
    assert published("detour-site-late") == dict.fromkeys(MINUTES[:4], 4.0)
    invoke(error_rate, scheduled(NOW + timedelta(minutes=2)))  # MINUTES[4] ended 2 minutes ago: still waiting
    assert MINUTES[4] not in published("detour-site-late")
    invoke(error_rate, scheduled(NOW + timedelta(minutes=3)))  # ... and 3: settled, without data
    assert published("detour-site-late")[MINUTES[4]] == 0.0


def test_during_an_outage_with_late_data_the_alarm_always_sees_its_minutes_breach(
    error_rate: ModuleType, function_env: Any
) -> None:
    """Each minute's data arrives a run late (the newest finished minute has none yet when the run
    reads). After every run, the most recent published minutes (what CloudWatch evaluates when the
    newest minute is missing) are consecutive and all above the threshold: ErrorRateMinutes (3) of
    them once the outage is three minutes old."""
    register(function_env.name, "late", 5, error_rate_of(LATE))
    start = NOW - timedelta(minutes=20)
    for minute in (start - timedelta(minutes=back) for back in range(6, 0, -1)):
        put_alb_minute(LATE, minute, requests=200, errors=0)  # healthy before the outage
    for played in range(6):
        outage_minute = start + timedelta(minutes=played)
        put_alb_minute(LATE, outage_minute, requests=200, errors=80)
        at = outage_minute + timedelta(minutes=2)  # the run for which outage_minute + 1 has no data yet
        invoke(error_rate, scheduled(at))
        seen = sorted((m, v) for m, v in published("detour-site-late").items() if m < at)
        newest = seen[-1][0]
        assert newest == outage_minute, (at, seen[-3:])  # nothing published for the minute still missing
        recent = seen[-min(played + 1, 3) :]
        assert [m for m, _ in recent] == [newest - timedelta(minutes=back) for back in range(len(recent) - 1, -1, -1)]
        assert all(value > 5.0 for _, value in recent), (at, recent)


def test_a_hard_outage_counts_the_balancers_own_5xx(error_rate: ModuleType, function_env: Any) -> None:
    """Targets dead or timing out: the visitors get the balancer's 502/503/504
    (HTTPCode_ELB_5XX_Count, per balancer), no target 5xx at all. The rate counts them over the
    balancer's requests."""
    dead = ("targetgroup/dead-web/6666666666666666", "app/dead-alb/7777777777777777")
    register(function_env.name, "dead", 6, error_rate_of(dead))
    for minute in MINUTES:
        put_alb_minute(dead, minute, requests=200, errors=0, elb_errors=150)
    result = invoke(error_rate, scheduled())
    assert result["rates"]["detour-site-dead"] == [75.0] * 5
    assert published("detour-site-dead") == dict.fromkeys(MINUTES, 75.0)


def test_a_wrong_load_balancer_is_warned_about_and_fails_nothing(
    error_rate: ModuleType, function_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A well-formed value that names no ALB with data (a typo, a recreated ALB) returns no data at all:
    the signal would read 0 % forever. The run publishes as before, and logs one WARNING per such site
    naming it, its dimension values and what to check. A wrong target group of a balancer with requests
    is not read for (its RequestCount is not queried): `detour preflight` checks both values."""
    gone = ("targetgroup/shop-web/73e2d6bc24d8a067", "app/shop-alb/0000000000000000")  # the ALB was recreated
    typo = ("targetgroup/shop-wbe/73e2d6bc24d8a067", SHOP[1])  # the balancer has requests, the group none
    register(function_env.name, "gone", 7, error_rate_of(gone))
    register(function_env.name, "typo", 8, error_rate_of(typo))
    capsys.readouterr()
    result = invoke(error_rate, scheduled())
    assert result["sites"] == 4
    records = log_records(capsys.readouterr().out)
    warnings = {r["site"]: r for r in records if r["level"] == "WARNING"}
    assert set(warnings) == {"detour-site-gone"}
    assert not [r for r in records if r["level"] == "ERROR"]
    lost = warnings["detour-site-gone"]
    assert (lost["domain"], lost["target_group"], lost["load_balancer"]) == ("gone.example.com", *gone)
    assert "ErrorRateLoadBalancer" in lost["check"]
    assert "app/shop-alb/0000000000000000" in lost["check"]
    assert "in the 24 minutes read" in lost["check"]
    # the wrong group's site still reads what the balancer says (its requests, no 5xx of its own)
    assert published("detour-site-typo") == dict.fromkeys(MINUTES, 0.0)


# ---------------------------------------------------------------- the hold after a failing run

HELD = ("targetgroup/held-web/8888888888888888", "app/held-alb/9999999999999999")


def test_after_a_failing_run_the_next_minutes_are_published_held_then_at_their_own_rate(
    error_rate: ModuleType, function_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """ErrorRateMinutes 3: three minutes at 40 % fail the site over. The visitors then reach the
    maintenance page, the balancer gets Route 53's probes only (0 %): each of the next HOLD_MINUTES
    minutes is published at 40 % all the same (its own rate in the log, and which run holds it), so
    the alarm stays in ALARM; the minute after them is published at its own 0 %. Runs every minute,
    each minute's data there when its run reads."""
    register(function_env.name, "held", 9, error_rate_of(HELD))
    start = NOW - timedelta(minutes=30)
    played = [start + timedelta(minutes=i) for i in range(3 + HOLD_MINUTES + 2)]
    for index, minute in enumerate(played):
        put_alb_minute(HELD, minute, requests=200 if index < 3 else 30, errors=80 if index < 3 else 0)
        invoke(error_rate, scheduled(minute + timedelta(minutes=1)))
    values = published("detour-site-held")
    assert [values[minute] for minute in played] == [40.0] * 3 + [40.0] * HOLD_MINUTES + [0.0, 0.0]
    capsys.readouterr()
    invoke(error_rate, scheduled(played[-1] + timedelta(minutes=1)))
    (shown,) = [
        r["minutes"]
        for r in log_records(capsys.readouterr().out)
        if r["message"] == "Published the site's target 5xx rate" and r["site"] == "detour-site-held"
    ]
    last_held = played[2 + HOLD_MINUTES].strftime("%Y-%m-%dT%H:%MZ")
    assert shown[last_held] == {
        "published": 40.0,
        "rate": 0.0,
        "requests": 30.0,
        "5xx": 0.0,
        "target_5xx": 0.0,
        "elb_5xx": 0.0,
        "held_by": played[2].strftime("%Y-%m-%dT%H:%MZ"),
    }
    assert shown[played[-1].strftime("%Y-%m-%dT%H:%MZ")]["published"] == 0.0
