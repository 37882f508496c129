"""The 5xx rate (ADR 0002): the rate of each minute from the ALB's sums (the 5xx visitors got over the
balancer's requests), the hold after a failing run (so the signal does not flap once visitors have left),
which minutes a run publishes (those with data, and settled ones), which sites are read and how, which
are warned about (no requests at all), and how one site's failure stays its own. CloudWatch is a fake
here; tests/integration/test_error_rate.py runs the function against moto's."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError

from detour.incidents.sites import ErrorRate, RegisteredSite
from detour.signals.error_rate import (
    ELB_5XX,
    HOLD_MINUTES,
    MAX_RUN_MINUTES,
    READ_MINUTES,
    REQUESTS,
    SETTLE_MINUTES,
    SITES_PER_READ,
    TARGET_5XX,
    WINDOW_MINUTES,
    Minute,
    Sums,
    Watched,
    config_problem,
    failing_runs,
    finished_minutes,
    hold,
    minute_rates,
    no_requests,
    publish_error_rates,
    settled,
    to_publish,
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


def rates(
    requests: dict[datetime, float],
    errors: dict[datetime, float],
    min_requests: int = 20,
    elb: dict[datetime, float] | None = None,
) -> list[float]:
    sums = Sums(requests=requests, target_5xx=errors, elb_5xx=elb or {})
    return [minute.rate for minute in minute_rates(sums, MINUTES, min_requests)]


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


def test_the_5xx_are_what_visitors_got_the_targets_and_the_balancers_own() -> None:
    """A hard outage (targets dead or timing out) has no target 5xx at all: the balancer answers 502,
    503 or 504 (HTTPCode_ELB_5XX_Count). Both count, over the balancer's requests."""
    minute = MINUTES[2]
    assert rates({minute: 200}, {minute: 30}, elb={minute: 10})[2] == 20.0
    assert rates({minute: 200}, {}, elb={minute: 200})[2] == 100.0  # every request timed out: 504
    assert rates({minute: 200}, {}, elb={minute: 150})[2] == 75.0
    (reading,) = [m for m in minute_rates(Sums({minute: 200}, {minute: 30}, {minute: 10}), MINUTES, 20) if m.requests]
    assert (reading.requests, reading.target_5xx, reading.elb_5xx, reading.errors) == (200, 30, 10, 40)


def test_5xx_refused_before_a_target_was_chosen_never_make_the_rate_exceed_100() -> None:
    """A 503 for a target group without registered targets may be in the balancer's 5xx and not in its
    RequestCount: the denominator is the larger of the two, so the rate stays at most 100 %, and a
    minute of such 503s only (no RequestCount at all) is 100 %, not 0 %."""
    minute = MINUTES[3]
    assert rates({minute: 30}, {}, elb={minute: 60})[3] == 100.0
    assert rates({}, {}, elb={minute: 60})[3] == 100.0
    assert rates({}, {}, elb={minute: 19})[3] == 0.0  # under min_requests: says nothing


def test_with_several_target_groups_the_rate_is_of_the_whole_balancers_traffic() -> None:
    """The denominator is the balancer's requests: another target group's healthy traffic dilutes this
    group's target 5xx (ADR 0002 says so; set ErrorRatePercent for it, or give the site its own ALB)."""
    minute = MINUTES[0]
    assert rates({minute: 1000}, {minute: 100})[0] == 10.0  # this group: 100 requests, all failing


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
    assert rates({minute: 20}, {minute: 20}, elb={minute: 20})[1] == 100.0


def test_missing_minutes_are_0_and_the_others_keep_their_own_rate() -> None:
    """The ALB publishes nothing for a minute without traffic, and no 5xx count without a 5xx."""
    requests = {MINUTES[0]: 100, MINUTES[3]: 50}
    errors = {MINUTES[3]: 10}
    assert rates(requests, errors) == [0.0, 0.0, 0.0, 20.0, 0.0]
    readings = minute_rates(Sums(requests, errors, {}), MINUTES, 20)
    assert [m.start for m in readings] == MINUTES
    assert (readings[3].requests, readings[3].errors) == (50, 10)
    # which minutes had a RequestCount datapoint of the balancer (a 0 is a datapoint)
    assert [m.reported for m in readings] == [True, False, False, True, False]
    assert [m.reported for m in minute_rates(Sums({MINUTES[1]: 0}, {}, {}), MINUTES, 20)][1] is True


def test_sums_for_other_minutes_are_ignored() -> None:
    earlier = MINUTES[0] - timedelta(minutes=1)
    assert rates({earlier: 100}, {earlier: 100}) == [0.0] * 5


# ---------------------------------------------------------------- which minutes a run publishes


def test_a_minute_settles_three_minutes_after_it_ended() -> None:
    """NOW is 12:03:27: 11:59 ended at 12:00, 3 minutes before the run's minute (12:03); 12:00 did not."""
    assert SETTLE_MINUTES == 3
    assert [settled(m, NOW) for m in MINUTES] == [True, True, False, False, False]
    on_the_minute = datetime(2026, 11, 29, 12, 3, tzinfo=UTC)
    assert settled(datetime(2026, 11, 29, 11, 59, tzinfo=UTC), on_the_minute)
    assert not settled(datetime(2026, 11, 29, 12, 0, tzinfo=UTC), on_the_minute)
    assert settled(datetime(2026, 11, 29, 11, 59, tzinfo=UTC), NOW.astimezone(ZoneInfo("Asia/Tokyo")))


def test_a_minute_without_its_requests_datapoint_waits_until_it_settles() -> None:
    """The ALB's data arrives about a minute after the minute ends: a minute read without the
    balancer's RequestCount may just be early. Published as 0 % it would be the alarm's newest datapoint
    and keep an alarm that needs all its minutes breaching from firing. It is published once its data
    has arrived, whatever its age, or as 0 % once it has settled without any (no traffic)."""
    sums = Sums({MINUTES[2]: 200, MINUTES[3]: 200}, {MINUTES[2]: 80, MINUTES[3]: 80}, {MINUTES[4]: 5})
    readings = minute_rates(sums, MINUTES, 20)
    published = to_publish(readings, NOW)
    assert [(m.start, m.rate) for m in published] == [
        (MINUTES[0], 0.0),  # settled without data
        (MINUTES[1], 0.0),
        (MINUTES[2], 40.0),  # data, not settled
        (MINUTES[3], 40.0),
    ]  # MINUTES[4]: a 5xx count but no RequestCount yet (it would read 100 %): waits


def test_every_minute_is_published_by_some_run_of_its_window() -> None:
    """A minute is in the windows of the WINDOW_MINUTES runs after it; the last ones find it settled."""
    assert SETTLE_MINUTES < WINDOW_MINUTES
    minute = MINUTES[0]
    runs = [minute + timedelta(minutes=later, seconds=12) for later in range(1, WINDOW_MINUTES + 1)]
    assert all(minute in finished_minutes(run) for run in runs)
    assert [settled(minute, run) for run in runs] == [False] * SETTLE_MINUTES + [True] * (
        WINDOW_MINUTES - SETTLE_MINUTES
    )


# ---------------------------------------------------------------- the hold after a failing run


def readings(values: list[float | None]) -> list[Minute]:
    """Consecutive minutes ending at MINUTES[-1] with these rates, read at NOW (None: no data yet; only
    the newest minutes may lack it, the older ones have settled)."""
    first = MINUTES[-1] - timedelta(minutes=len(values) - 1)
    return [
        Minute(
            start=first + timedelta(minutes=index),
            requests=0.0 if value is None else 100.0,
            target_5xx=value or 0.0,
            elb_5xx=0.0,
            rate=value or 0.0,
            reported=value is not None,
        )
        for index, value in enumerate(values)
    ]


def test_after_a_failing_run_the_next_ten_minutes_are_held_at_its_lowest_rate() -> None:
    """ErrorRateMinutes 3 above 5 %: the alarm fails the site over on minutes 1-3. The visitors then
    reach the maintenance page, the balancer sees Route 53's probes only (0 %): without the hold the
    next minute would turn the alarm OK and fail the site back onto its errors."""
    assert HOLD_MINUTES == 10
    values: list[float | None] = [0.0, 30.0, 40.0, 35.0] + [0.0] * 12
    held = hold(readings(values), NOW, config(minutes=3))
    assert failing_runs(readings(values), NOW, config(minutes=3)) == {3: 30.0}
    assert [m.value for m in held] == [0.0, 30.0, 40.0, 35.0] + [30.0] * HOLD_MINUTES + [0.0, 0.0]
    assert [m.rate for m in held] == values  # the minutes' own rates, as read
    assert {m.held_by for m in held if m.held} == {held[3].start}
    assert [m.held_by is None for m in held[:4]] == [True] * 4
    # a held value never makes a run of its own: after HOLD_MINUTES the minutes read their own rate


def test_a_run_shorter_than_error_rate_minutes_holds_nothing() -> None:
    """One bad minute (or two, when the alarm wants three) fails nothing over, and is held for nothing."""
    for values in ([0.0, 90.0, 0.0, 0.0, 0.0], [0.0, 90.0, 90.0, 0.0, 0.0], [90.0, 90.0, 3.0, 90.0, 0.0]):
        held = hold(readings(list(values)), NOW, config(minutes=3))
        assert [m.value for m in held] == values
    # exactly at the threshold is not above it (the alarm is GreaterThanThreshold)
    assert failing_runs(readings([5.0, 5.0, 5.0]), NOW, config(minutes=3, threshold_percent=5.0)) == {}


def test_with_error_rate_minutes_1_every_failing_minute_holds() -> None:
    values: list[float | None] = [0.0, 20.0, 0.0, *([0.0] * 11)]
    held = hold(readings(values), NOW, config(minutes=1))
    assert [m.value for m in held] == [0.0, 20.0] + [20.0] * HOLD_MINUTES + [0.0, 0.0]


def test_a_minute_reads_its_own_rate_when_higher_and_the_highest_hold_of_several_runs() -> None:
    values: list[float | None] = [50.0, 50.0, 0.0, 20.0, 20.0, 80.0, *([0.0] * 12)]
    held = hold(readings(values), NOW, config(minutes=2))
    assert failing_runs(readings(values), NOW, config(minutes=2)) == {1: 50.0, 4: 20.0, 5: 20.0}
    assert [m.value for m in held] == (
        [50.0, 50.0, 50.0, 50.0, 50.0, 80.0]  # minute 5's own 80 % is higher than the hold
        + [50.0] * 6  # minutes 6-11: the first run's hold, the higher
        + [20.0] * 4  # minutes 12-15: the later runs' (the last ended at minute 5)
        + [0.0, 0.0]
    )


def test_a_minute_still_waiting_for_its_data_is_in_no_run() -> None:
    """A minute without its balancer RequestCount yet (here: the balancer's own 5xx only, 100 % as read)
    may be early: it neither makes a run nor is published until its data arrives or it settles."""
    sums = Sums(dict.fromkeys(MINUTES[:4], 100.0), dict.fromkeys(MINUTES[:4], 50.0), {MINUTES[4]: 60})
    read = minute_rates(sums, MINUTES, 20)
    assert read[4].rate == 100.0
    assert failing_runs(read, NOW, config(minutes=2)) == {1: 50.0, 2: 50.0, 3: 50.0}
    settled_later = NOW + timedelta(minutes=SETTLE_MINUTES)
    assert failing_runs(read, settled_later, config(minutes=2)) == {1: 50.0, 2: 50.0, 3: 50.0, 4: 50.0}


# ---------------------------------------------------------------- a site whose balancer has no requests


def test_a_site_whose_balancer_has_no_requests_is_named_with_what_to_check() -> None:
    one = Watched(site("detour-site-shop", config()), config())
    problem = no_requests(one, minute_rates(Sums({}, {}, {}), MINUTES, 20))
    assert problem is not None
    assert (problem.site, problem.domain, problem.target_group, problem.load_balancer) == (
        "detour-site-shop",
        "detour-site-shop.example.com",
        TG,
        LB,
    )
    assert f"no RequestCount for LoadBalancer {LB} in the 5 minutes read" in problem.check
    assert "ErrorRateLoadBalancer" in problem.check
    assert "detour preflight --site" in problem.check
    assert "refusing" not in problem.check
    refused = no_requests(one, minute_rates(Sums({}, {}, {MINUTES[0]: 40}), MINUTES, 20))
    assert refused is not None
    assert "it answered 40 requests with 5xx of its own meanwhile: it may be refusing every" in refused.check


def test_a_balancer_with_requests_is_not_warned_about_whatever_its_target_groups_5xx() -> None:
    """The target group's own RequestCount is not read (a query less a site a minute): whether the
    site's TargetGroup is the balancer's is `detour preflight`'s check, before a deploy and for a
    deployed site. A balancer with requests is all this warning is about."""
    one = Watched(site("detour-site-shop", config()), config())
    assert no_requests(one, minute_rates(Sums({MINUTES[1]: 100}, {}, {}), MINUTES, 20)) is None
    assert no_requests(one, minute_rates(Sums({MINUTES[1]: 0}, {}, {}), MINUTES, 20)) is None  # a 0 is data


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
        ({"minutes": 0}, "not 1 to 10"),
        ({"minutes": MAX_RUN_MINUTES + 1}, "ErrorRateMinutes"),
        ({"minutes": MAX_RUN_MINUTES}, None),
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
    """GetMetricData from per-minute sums keyed by (metric, target group) for the target group's metrics
    (TargetGroup + LoadBalancer) and (metric, load balancer) for the balancer's (LoadBalancer only);
    PutMetricData recorded."""

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
            metric = stat["Metric"]["MetricName"]
            by_group = query["Id"].endswith("_target_5xx")
            assert set(dimensions) == ({"TargetGroup", "LoadBalancer"} if by_group else {"LoadBalancer"})
            assert (
                metric
                == {"requests": REQUESTS, "target_5xx": TARGET_5XX, "elb_5xx": ELB_5XX}[query["Id"].split("_", 1)[1]]
            )
            key = dimensions["TargetGroup"] if by_group else dimensions["LoadBalancer"]
            if dimensions.get("TargetGroup") in self.forbid:
                results.append({"Id": query["Id"], "StatusCode": "Forbidden", "Timestamps": [], "Values": []})
                continue
            series = {
                t: v
                for t, v in self.sums.get((metric, key), {}).items()
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


def balancer(index: int) -> str:
    return f"app/alb-{index}/{index:016x}"


def watched_sites(count: int) -> list[RegisteredSite]:
    return [
        site(f"detour-site-{i}", config(target_group=group(i), load_balancer=balancer(i)), index=i)
        for i in range(count)
    ]


def traffic(
    index: int, requests: float, target_5xx: float = 0, elb_5xx: float = 0, minutes: list[datetime] = MINUTES
) -> dict[tuple[str, str], dict[datetime, float]]:
    """What site `index`'s ALB (one target group) reports for each of `minutes`; nothing for a zero count."""
    found: dict[tuple[str, str], dict[datetime, float]] = {}
    for key, value in (
        ((REQUESTS, balancer(index)), requests),
        ((TARGET_5XX, group(index)), target_5xx),
        ((ELB_5XX, balancer(index)), elb_5xx),
    ):
        if value:
            found[key] = dict.fromkeys(minutes, float(value))
    return found


def test_every_site_with_the_signal_is_read_in_one_call_and_published() -> None:
    cloudwatch = FakeCloudWatch(traffic(0, 100, target_5xx=30, elb_5xx=10) | traffic(1, 100))
    sites = [*watched_sites(2), site("detour-site-plain")]
    outcome = publish_error_rates(sites, NOW, cloudwatch)
    assert (len(cloudwatch.reads), len(cloudwatch.puts)) == (1, 1)
    (read,) = cloudwatch.reads
    assert len(read["MetricDataQueries"]) == 6  # three a site
    # the published window and the minutes its hold looks back on: GetMetricData is billed per metric, not datapoint
    assert READ_MINUTES == 24
    assert (read["StartTime"], read["EndTime"]) == (
        MINUTES[-1] - timedelta(minutes=READ_MINUTES - 1),
        MINUTES[-1] + timedelta(minutes=1),
    )
    assert outcome.failed == {}
    assert outcome.not_watched == 1
    assert (outcome.waiting, outcome.no_requests) == ({}, {})
    assert cloudwatch.published() == {
        "detour-site-0": dict.fromkeys(MINUTES, 40.0),
        "detour-site-1": dict.fromkeys(MINUTES, 0.0),
    }
    assert [m.rate for m in outcome.published["detour-site-0"]] == [40.0] * 5


def test_the_balancers_requests_and_5xx_are_asked_by_load_balancer_the_targets_by_target_group() -> None:
    cloudwatch = FakeCloudWatch()
    publish_error_rates(watched_sites(1), NOW, cloudwatch)
    asked = {
        query["Id"]: (
            query["MetricStat"]["Metric"]["MetricName"],
            [d["Name"] for d in query["MetricStat"]["Metric"]["Dimensions"]],
        )
        for query in cloudwatch.reads[0]["MetricDataQueries"]
    }
    assert asked == {
        "s0_requests": ("RequestCount", ["LoadBalancer"]),
        "s0_target_5xx": ("HTTPCode_Target_5XX_Count", ["TargetGroup", "LoadBalancer"]),
        "s0_elb_5xx": ("HTTPCode_ELB_5XX_Count", ["LoadBalancer"]),
    }


def test_minutes_without_data_yet_are_not_published_and_are_named() -> None:
    """Data up to MINUTES[2] only: MINUTES[3] and MINUTES[4] wait (not published as 0 %)."""
    cloudwatch = FakeCloudWatch(traffic(0, 200, target_5xx=80, minutes=MINUTES[:3]))
    outcome = publish_error_rates(watched_sites(1), NOW, cloudwatch)
    assert cloudwatch.published() == {"detour-site-0": dict.fromkeys(MINUTES[:3], 40.0)}
    assert outcome.waiting == {"detour-site-0": MINUTES[3:]}
    assert outcome.no_requests == {}


def test_a_site_whose_alb_has_no_requests_is_published_and_warned_about() -> None:
    """No data at all (a wrong dimension value reads as none): the settled minutes are published as
    0 %, the others wait, and the site is named in `no_requests`, not in `failed`."""
    cloudwatch = FakeCloudWatch(traffic(1, 100))
    outcome = publish_error_rates(watched_sites(2), NOW, cloudwatch)
    assert outcome.failed == {}
    assert set(outcome.no_requests) == {"detour-site-0"}
    assert outcome.no_requests["detour-site-0"].load_balancer == balancer(0)
    assert cloudwatch.published()["detour-site-0"] == dict.fromkeys(MINUTES[:2], 0.0)


def test_no_site_with_the_signal_makes_no_request() -> None:
    cloudwatch = FakeCloudWatch()
    outcome = publish_error_rates([site("detour-site-plain")], NOW, cloudwatch)
    assert (cloudwatch.reads, cloudwatch.puts, outcome.published, outcome.failed) == ([], [], {}, {})


def test_results_split_over_pages_are_put_together() -> None:
    minute = MINUTES[4]
    cloudwatch = FakeCloudWatch()
    for i in range(3):
        cloudwatch.sums |= traffic(i, 50, target_5xx=5.0 * (i + 1), minutes=[minute])
    cloudwatch.page_size = 1
    outcome = publish_error_rates(watched_sites(3), NOW, cloudwatch)
    assert len(cloudwatch.reads) == 9  # three queries a site, one a page
    assert all(r["MetricDataQueries"] == cloudwatch.reads[0]["MetricDataQueries"] for r in cloudwatch.reads)
    assert [outcome.published[f"detour-site-{i}"][-1].rate for i in range(3)] == [10.0, 20.0, 30.0]


def test_more_sites_than_one_call_holds_are_read_in_calls_of_up_to_500_queries() -> None:
    cloudwatch = FakeCloudWatch()
    for i in range(401):
        cloudwatch.sums |= traffic(i, 100)
    outcome = publish_error_rates(watched_sites(401), NOW, cloudwatch)
    assert SITES_PER_READ == 166
    assert [len(r["MetricDataQueries"]) for r in cloudwatch.reads] == [498, 498, 207]  # 166 sites a call
    assert [len(p["MetricData"]) for p in cloudwatch.puts] == [1000, 1000, 5]
    assert len(outcome.published) == 401
    assert len({q["Id"] for q in cloudwatch.reads[0]["MetricDataQueries"]}) == 498


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
    cloudwatch = FakeCloudWatch(traffic(2, 20, target_5xx=2, minutes=MINUTES[:1]))
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


def maxima(cloudwatch: FakeCloudWatch, name: str) -> dict[datetime, float]:
    """Each published minute's Maximum, as the site's alarm reads it."""
    found: dict[datetime, float] = {}
    for put in cloudwatch.puts:
        for datum in put["MetricData"]:
            if datum["Dimensions"] == [{"Name": "Site", "Value": name}]:
                found[datum["Timestamp"]] = max(found.get(datum["Timestamp"], 0.0), datum["Value"])
    return found


def test_the_signal_stays_failed_for_ten_clean_minutes_then_fails_back_and_over_again_while_errors_last() -> None:
    """The flap the hold ends, played minute by minute through publish_error_rates: the site's alarm
    (Maximum, 3 of 3 minutes above 5 %) evaluated after each run on the newest published minutes. While
    failed over, the balancer sees only Route 53's probes (30 requests a minute, all 200): 0 %. Without
    the hold the alarm went OK on the first such minute, the visitors came back to their 5xx, and it
    failed over again 3 minutes later: every 4 minutes here, each one a new incident. With it: failed
    over on the third failing minute, OK on the HOLD_MINUTES + 1st minute after it, over again 3
    minutes later while the errors last, and, once the primary is fixed (minute 20, while failed
    over), OK for good after the hold."""
    one = site("detour-site-shop", config(minutes=3))
    cloudwatch = FakeCloudWatch()
    start = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    failed_over, transitions = False, []
    for played in range(40):
        minute = start + timedelta(minutes=played)
        visitors_failing = not failed_over and played < 20
        requests = 30.0 if failed_over else 200.0
        cloudwatch.sums.setdefault((REQUESTS, LB), {})[minute] = requests
        if visitors_failing:
            cloudwatch.sums.setdefault((TARGET_5XX, TG), {})[minute] = 60.0  # 30 %
        publish_error_rates([one], minute + timedelta(minutes=1, seconds=12), cloudwatch)
        published = maxima(cloudwatch, "detour-site-shop")
        newest = [published.get(minute - timedelta(minutes=back)) for back in (2, 1, 0)]
        alarm = all(value is not None and value > 5.0 for value in newest)
        if alarm != failed_over:
            transitions.append((played, "ALARM" if alarm else "OK"))
            failed_over = alarm
    assert transitions == [
        (2, "ALARM"),  # minutes 0-2 failing
        (2 + HOLD_MINUTES + 1, "OK"),  # minutes 3-12 held (probes only, 0 % each), minute 13 reads 0 %
        (16, "ALARM"),  # the visitors are back on minute 14, still failing: 3 minutes later
        (16 + HOLD_MINUTES + 1, "OK"),  # fixed at minute 20, meanwhile: back after the hold, and stays
    ]
