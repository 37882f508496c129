"""functions/error_rate end to end on moto's server: ALB metrics put under AWS/ApplicationELB, the
scheduled event in, Detour/TargetErrorRate per site read back out (ADR 0002)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest

from detour.incidents.sites import ErrorRate
from detour.signals.error_rate import ErrorRateFailed
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


def put_alb_minute(target: tuple[str, str], minute: datetime, requests: int, errors: int) -> None:
    """What the ALB reports for a minute, in two datapoints (its nodes report apart): the minute's
    Sum is what the function must see."""
    data = []
    for metric, total in (("RequestCount", requests), ("HTTPCode_Target_5XX_Count", errors)):
        if total == 0:
            continue  # the ALB publishes no datapoint for a count with nothing to count
        first = total // 2
        for offset, value in ((5, first), (41, total - first)):
            data.append(
                {
                    "MetricName": metric,
                    "Dimensions": alb_dimensions(target),
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
        StartTime=MINUTES[0] - timedelta(minutes=10),
        EndTime=NOW + timedelta(minutes=10),
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


def test_quiet_and_empty_minutes_are_0(error_rate: ModuleType, function_env: Any) -> None:
    """A minute under the site's minimum of requests says nothing about the target, and a minute
    without data (no traffic) is 0 too: the alarm sees a datapoint every minute."""
    quiet = ("targetgroup/quiet-web/1111111111111111", "app/quiet-alb/2222222222222222")
    register(function_env.name, "quiet", 3, error_rate_of(quiet, min_requests=50))
    put_alb_minute(quiet, MINUTES[1], requests=49, errors=49)
    put_alb_minute(quiet, MINUTES[3], requests=50, errors=5)
    invoke(error_rate, scheduled())
    assert published("detour-site-quiet") == {m: 10.0 if m == MINUTES[3] else 0.0 for m in MINUTES}


def test_a_retried_run_publishes_the_same_minutes_again(error_rate: ModuleType) -> None:
    """Lambda retries a failed run with the same event: the same minutes, the same values (the
    alarm's Maximum is unchanged), whatever the clock says by then."""
    invoke(error_rate, scheduled())
    invoke(error_rate, scheduled())
    assert published("detour-site-shop") == dict.fromkeys(MINUTES, 40.0)
    # the next run moves on by a minute and republishes the four it shares with this one
    invoke(error_rate, scheduled(NOW + timedelta(minutes=1)))
    assert published("detour-site-shop") == dict.fromkeys(MINUTES, 40.0) | {NOW: 0.0}


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
    assert shown["detour-site-shop"][first] == {"rate": 40.0, "requests": 200.0, "5xx": 80.0}
    assert all(r["service"] == "error_rate" for r in records)


def test_without_sites_with_the_signal_it_publishes_nothing(function_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_function("error_rate", monkeypatch)
    assert invoke(module, scheduled()) == {"sites": 0, "without_signal": 1, "rates": {}}
    assert boto3.client("cloudwatch").list_metrics(Namespace="Detour")["Metrics"] == []
