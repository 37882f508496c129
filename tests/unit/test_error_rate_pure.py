"""The 5xx rate (ADR 0002): the rate of each minute from the ALB's two sums, which sites are read and
how, and how one site's failure stays its own. CloudWatch is a fake here; tests/integration/
test_error_rate.py runs the function against moto's."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError

from detour.incidents.sites import ErrorRate, RegisteredSite
from detour.signals.error_rate import (
    ERRORS,
    REQUESTS,
    config_problem,
    finished_minutes,
    minute_rates,
    publish_error_rates,
)
from tests.support.sites import SITE

NOW = datetime(2026, 11, 29, 12, 3, 27, tzinfo=UTC)
MINUTES = finished_minutes(NOW)
TG = "targetgroup/shop-web/73e2d6bc24d8a067"
LB = "app/shop-alb/50dc6c495c0c9188"


def config(**overrides: Any) -> ErrorRate:
    values: dict[str, Any] = {
        "target_group": TG,
        "load_balancer": LB,
        "threshold_percent": 5.0,
        "minutes": 3,
        "min_requests": 20,
    }
    return ErrorRate(**(values | overrides))


def site(name: str, error_rate: ErrorRate | None = None, index: int = 0) -> RegisteredSite:
    return replace(
        SITE,
        site_id=f"{index:08d}-0000-4000-8000-000000000000",
        stack_name=name,
        domain=f"{name}.example.com",
        alarm_name=f"detour/{name}/primary-health",
        error_rate=error_rate,
    )


# ---------------------------------------------------------------- the rate of a minute


def rates(requests: dict[datetime, float], errors: dict[datetime, float], min_requests: int = 20) -> list[float]:
    return [minute.rate for minute in minute_rates(requests, errors, MINUTES, min_requests)]


def test_the_finished_minutes_are_the_five_before_the_current_one_oldest_first() -> None:
    first = datetime(2026, 11, 29, 11, 58, tzinfo=UTC)
    assert finished_minutes(NOW) == [first + timedelta(minutes=i) for i in range(5)]
    assert MINUTES[-1] == datetime(2026, 11, 29, 12, 2, tzinfo=UTC)
    # on the minute: that minute has only begun
    assert finished_minutes(datetime(2026, 11, 29, 12, 3, tzinfo=UTC))[-1] == datetime(2026, 11, 29, 12, 2, tzinfo=UTC)
    # another zone's clock is the same instant
    other = NOW.astimezone(ZoneInfo("Europe/Paris"))
    assert finished_minutes(other) == MINUTES


def test_a_minute_is_a_hundred_times_5xx_over_requests() -> None:
    minute = MINUTES[2]
    assert rates({minute: 200}, {minute: 80})[2] == 40.0
    assert rates({minute: 300}, {minute: 1})[2] == pytest.approx(0.333)


def test_a_minute_without_requests_is_0() -> None:
    assert rates({}, {}) == [0.0] * 5
    assert rates({MINUTES[0]: 0}, {MINUTES[0]: 0}) == [0.0] * 5
    assert rates({MINUTES[0]: 0}, {MINUTES[0]: 0}, min_requests=0) == [0.0] * 5  # no division by zero


def test_a_minute_below_min_requests_is_0_and_one_at_exactly_min_requests_counts() -> None:
    minute = MINUTES[4]
    assert rates({minute: 19}, {minute: 19})[4] == 0.0
    assert rates({minute: 20}, {minute: 19})[4] == 95.0
    assert rates({minute: 1}, {minute: 1}, min_requests=0)[4] == 100.0


def test_more_5xx_than_requests_in_a_minute_is_100_not_more() -> None:
    """A request is counted when it arrives and its 5xx when it is answered: a backlog of slow failures
    can land in a quieter minute. That minute is failing everything, not failing 150 %."""
    minute = MINUTES[1]
    assert rates({minute: 20}, {minute: 30})[1] == 100.0


def test_missing_minutes_are_0_and_the_others_keep_their_own_rate() -> None:
    """The ALB publishes nothing for a minute without traffic, and no 5xx count without a 5xx."""
    requests = {MINUTES[0]: 100, MINUTES[3]: 50}
    errors = {MINUTES[3]: 10}
    assert rates(requests, errors) == [0.0, 0.0, 0.0, 20.0, 0.0]
    readings = minute_rates(requests, errors, MINUTES, 20)
    assert [m.start for m in readings] == MINUTES
    assert (readings[3].requests, readings[3].errors) == (50, 10)


def test_sums_for_other_minutes_are_ignored() -> None:
    earlier = MINUTES[0] - timedelta(minutes=1)
    assert rates({earlier: 100}, {earlier: 100}) == [0.0] * 5


# ---------------------------------------------------------------- the site's settings


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({}, None),
        ({"target_group": "targetgroup/a/0123456789abcdef", "load_balancer": "app/b/0123456789abcdef"}, None),
        ({"target_group": ""}, "target group"),
        ({"target_group": LB, "load_balancer": TG}, "target group"),  # swapped
        ({"target_group": f"arn:aws:elasticloadbalancing:us-east-1:123456789012:{TG}"}, "target group"),  # the ARN
        ({"target_group": "targetgroup/shop web/73e2d6bc24d8a067"}, "target group"),
        ({"load_balancer": "net/shop-nlb/50dc6c495c0c9188"}, "Application Load Balancer"),  # no HTTP codes
        ({"load_balancer": "app/shop-alb"}, "Application Load Balancer"),
        ({"min_requests": -1}, "negative"),
    ],
)
def test_settings_that_cannot_be_queried_are_refused_before_any_request(
    overrides: dict[str, Any], problem: str | None
) -> None:
    found = config_problem(config(**overrides))
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


# ---------------------------------------------------------------- reading and publishing, on a fake


def refused(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} said CloudWatch"}}, operation)


class FakeCloudWatch:
    """GetMetricData from per-minute sums keyed by (metric, target group); PutMetricData recorded."""

    def __init__(self, sums: dict[tuple[str, str], dict[datetime, float]] | None = None) -> None:
        self.sums = sums or {}
        self.reads: list[dict[str, Any]] = []
        self.puts: list[dict[str, Any]] = []
        self.page_size: int | None = None  # results per page, to exercise NextToken
        self.refuse_read: dict[str, str] = {}  # target group -> error code for the whole request
        self.forbid: set[str] = set()  # target groups whose queries answer StatusCode Forbidden
        self.refuse_put: str | None = None

    def get_metric_data(self, **arguments: Any) -> dict[str, Any]:
        self.reads.append(arguments)
        queries = arguments["MetricDataQueries"]
        assert len(queries) <= 500
        for query in queries:
            for dimension in query["MetricStat"]["Metric"]["Dimensions"]:
                if dimension["Value"] in self.refuse_read:
                    raise refused(self.refuse_read[dimension["Value"]], "GetMetricData")
        results = []
        for query in queries:
            stat = query["MetricStat"]
            assert (stat["Period"], stat["Stat"], stat["Metric"]["Namespace"]) == (60, "Sum", "AWS/ApplicationELB")
            dimensions = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
            assert set(dimensions) == {"TargetGroup", "LoadBalancer"}
            group = dimensions["TargetGroup"]
            if group in self.forbid:
                results.append({"Id": query["Id"], "StatusCode": "Forbidden", "Timestamps": [], "Values": []})
                continue
            series = {
                t: v
                for t, v in self.sums.get((stat["Metric"]["MetricName"], group), {}).items()
                if arguments["StartTime"] <= t < arguments["EndTime"]
            }
            answer = {"Timestamps": list(series), "Values": list(series.values())}
            results.append({"Id": query["Id"], "StatusCode": "Complete", **answer})
        if self.page_size is None:
            return {"MetricDataResults": results}
        start = int(arguments.get("NextToken", 0))
        page = results[start : start + self.page_size]
        more = start + self.page_size < len(results)
        return {"MetricDataResults": page} | ({"NextToken": str(start + self.page_size)} if more else {})

    def put_metric_data(self, **arguments: Any) -> None:
        if self.refuse_put:
            raise refused(self.refuse_put, "PutMetricData")
        assert len(arguments["MetricData"]) <= 1000
        self.puts.append(arguments)

    def published(self) -> dict[str, dict[datetime, float]]:
        found: dict[str, dict[datetime, float]] = {}
        for put in self.puts:
            assert put["Namespace"] == "Detour"
            for datum in put["MetricData"]:
                assert (datum["MetricName"], datum["Unit"], datum["StorageResolution"]) == (
                    "TargetErrorRate",
                    "Percent",
                    60,
                )
                ((name, value),) = [(d["Name"], d["Value"]) for d in datum["Dimensions"]]
                assert name == "Site"
                found.setdefault(value, {})[datum["Timestamp"]] = datum["Value"]
        return found


def group(index: int) -> str:
    return f"targetgroup/web-{index}/{index:016x}"


def watched_sites(count: int) -> list[RegisteredSite]:
    return [site(f"detour-site-{i}", config(target_group=group(i)), index=i) for i in range(count)]


def test_every_site_with_the_signal_is_read_in_one_call_and_published() -> None:
    minute = MINUTES[2]
    cloudwatch = FakeCloudWatch(
        {
            (REQUESTS, group(0)): {minute: 100.0},
            (ERRORS, group(0)): {minute: 40.0},
            (REQUESTS, group(1)): {minute: 100.0},
        }
    )
    sites = [*watched_sites(2), site("detour-site-plain")]
    outcome = publish_error_rates(sites, NOW, cloudwatch)
    assert (len(cloudwatch.reads), len(cloudwatch.puts)) == (1, 1)
    (read,) = cloudwatch.reads
    assert len(read["MetricDataQueries"]) == 4
    assert (read["StartTime"], read["EndTime"]) == (MINUTES[0], MINUTES[-1] + timedelta(minutes=1))
    assert outcome.failed == {}
    assert outcome.not_watched == 1
    assert cloudwatch.published() == {
        "detour-site-0": {m: 40.0 if m == minute else 0.0 for m in MINUTES},
        "detour-site-1": dict.fromkeys(MINUTES, 0.0),
    }
    assert [m.rate for m in outcome.published["detour-site-0"]] == [0.0, 0.0, 40.0, 0.0, 0.0]


def test_no_site_with_the_signal_makes_no_request() -> None:
    cloudwatch = FakeCloudWatch()
    outcome = publish_error_rates([site("detour-site-plain")], NOW, cloudwatch)
    assert (cloudwatch.reads, cloudwatch.puts, outcome.published, outcome.failed) == ([], [], {}, {})


def test_results_split_over_pages_are_put_together() -> None:
    minute = MINUTES[4]
    cloudwatch = FakeCloudWatch({(REQUESTS, group(i)): {minute: 50.0} for i in range(3)})
    cloudwatch.sums |= {(ERRORS, group(i)): {minute: 5.0 * (i + 1)} for i in range(3)}
    cloudwatch.page_size = 1
    outcome = publish_error_rates(watched_sites(3), NOW, cloudwatch)
    assert len(cloudwatch.reads) == 6
    assert all(r["MetricDataQueries"] == cloudwatch.reads[0]["MetricDataQueries"] for r in cloudwatch.reads)
    assert [outcome.published[f"detour-site-{i}"][4].rate for i in range(3)] == [10.0, 20.0, 30.0]


def test_more_sites_than_one_call_holds_are_read_in_calls_of_500_queries() -> None:
    cloudwatch = FakeCloudWatch()
    outcome = publish_error_rates(watched_sites(301), NOW, cloudwatch)
    assert [len(r["MetricDataQueries"]) for r in cloudwatch.reads] == [500, 102]
    assert [len(p["MetricData"]) for p in cloudwatch.puts] == [1000, 505]
    assert len(outcome.published) == 301
    assert len({q["Id"] for q in cloudwatch.reads[0]["MetricDataQueries"]}) == 500


def test_a_site_with_bad_settings_fails_alone_and_is_never_sent() -> None:
    cloudwatch = FakeCloudWatch()
    bad = site("detour-site-bad", config(load_balancer="net/shop-nlb/50dc6c495c0c9188"), index=9)
    outcome = publish_error_rates([*watched_sites(2), bad], NOW, cloudwatch)
    assert set(outcome.published) == {"detour-site-0", "detour-site-1"}
    assert set(outcome.failed) == {"detour-site-bad"}
    assert "detour-site-bad.example.com: load balancer 'net/shop-nlb/" in outcome.failed["detour-site-bad"]
    assert "net/shop-nlb" not in str(cloudwatch.reads)
    summary = outcome.failure_summary()
    assert summary.startswith("the target 5xx rate of 1 of 3 sites was not published: detour-site-bad")


def test_a_request_refused_as_malformed_is_asked_again_site_by_site() -> None:
    """A value CloudWatch refuses that the settings check let through fails its own site only."""
    cloudwatch = FakeCloudWatch({(REQUESTS, group(2)): {MINUTES[0]: 20.0}, (ERRORS, group(2)): {MINUTES[0]: 2.0}})
    cloudwatch.refuse_read = {group(1): "InvalidParameterValue"}
    outcome = publish_error_rates(watched_sites(3), NOW, cloudwatch)
    assert len(cloudwatch.reads) == 1 + 3
    assert set(outcome.published) == {"detour-site-0", "detour-site-2"}
    assert outcome.published["detour-site-2"][0].rate == 10.0
    assert "GetMetricData failed: InvalidParameterValue" in outcome.failed["detour-site-1"]


def test_a_refusal_that_is_not_about_one_site_fails_the_batch_without_asking_each() -> None:
    cloudwatch = FakeCloudWatch()
    cloudwatch.refuse_read = {group(0): "AccessDenied"}
    outcome = publish_error_rates(watched_sites(3), NOW, cloudwatch)
    assert len(cloudwatch.reads) == 1
    assert (outcome.published, set(outcome.failed)) == ({}, {f"detour-site-{i}" for i in range(3)})
    assert cloudwatch.puts == []


def test_a_query_answered_forbidden_fails_its_site_only() -> None:
    cloudwatch = FakeCloudWatch()
    cloudwatch.forbid = {group(0)}
    outcome = publish_error_rates(watched_sites(2), NOW, cloudwatch)
    assert set(outcome.published) == {"detour-site-1"}
    assert outcome.failed == {"detour-site-0": "detour-site-0.example.com: GetMetricData answered Forbidden"}
    assert set(cloudwatch.published()) == {"detour-site-1"}


def test_a_refused_publication_fails_the_sites_it_carried() -> None:
    cloudwatch = FakeCloudWatch()
    cloudwatch.refuse_put = "Throttling"
    outcome = publish_error_rates(watched_sites(2), NOW, cloudwatch)
    assert outcome.published == {}
    assert all("PutMetricData failed: Throttling" in reason for reason in outcome.failed.values())
