"""The rehearsal's ALB: a primary whose pages fail while its health path stays green, the visitors'
requests counted per (back-dated) minute and published as the ALB publishes them; and Route 53's
checkers' status reports, which GetHealthCheckStatus answers while the rehearsal runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from detour_cli.local.alb_metrics import NAMESPACE, AlbMetrics
from detour_cli.local.fake_slack import free_port
from detour_cli.local.primary import LocalPrimary
from detour_cli.local.route53 import HealthCheck, HealthCheckConfig, probe_status
from detour_cli.local.route53_status import reported_by
from detour_cli.local.visitors import browse

TARGET_GROUP, LOAD_BALANCER = "targetgroup/shop-web/73e2d6bc24d8a067", "app/shop-alb/50dc6c495c0c9188"


@pytest.fixture
def primary() -> Iterator[LocalPrimary]:
    running = LocalPrimary()
    running.start()
    yield running
    running.stop()


def test_the_pages_fail_at_the_given_share_while_the_health_path_answers_200(primary: LocalPrimary) -> None:
    alb = AlbMetrics(TARGET_GROUP, LOAD_BALANCER)
    primary.on_request = alb.observe
    minute = datetime(2026, 11, 29, 22, 15, tzinfo=UTC)
    config = HealthCheckConfig("HTTP", "127.0.0.1", primary.port, path="/health", host="shop-alb.example")
    primary.failing_percent = 30
    browse("127.0.0.1", primary.port, "shop.detour.test", 5)  # not counted: no minute is being counted
    with alb.counting(minute) as counts:
        visits = browse("127.0.0.1", primary.port, "shop.detour.test", 50)
        assert probe_status(config) == (True, "Success: HTTP Status Code 200, OK.")  # Route 53's: not counted
    assert (visits.requests, visits.failed, visits.statuses[500], visits.percent_failed) == (50, 15, 15, 30.0)
    assert (counts.requests, counts.target_5xx, counts.percent) == (50, 15, 30.0)

    primary.failing_percent = 0
    with alb.counting(minute + timedelta(minutes=1)) as healed:
        assert browse("127.0.0.1", primary.port, "shop.detour.test", 20).failed == 0
    assert (healed.requests, healed.target_5xx) == (20, 0)


def test_a_minute_is_published_as_the_alb_publishes_it(aws: str) -> None:
    cloudwatch = boto3.client("cloudwatch")
    alb = AlbMetrics(TARGET_GROUP, LOAD_BALANCER)
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=20)
    for minute, statuses in ((0, [200] * 35 + [500] * 15), (1, [200] * 40), (2, [])):
        with alb.counting(start + timedelta(minutes=minute)):
            for status in statuses:
                alb.observe(status, "detour-visitor")
            alb.observe(200, "Amazon-Route53-Health-Check-Service (ref local; report http://amzn.to/1vsZADi)")
        alb.publish(start + timedelta(minutes=minute), cloudwatch)

    def sums(metric: str) -> dict[datetime, float]:
        points = cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName=metric,
            Dimensions=alb.dimensions,
            StartTime=start,
            EndTime=start + timedelta(minutes=3),
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        return {p["Timestamp"].astimezone(UTC): p["Sum"] for p in points}

    # no requests: nothing published; no 5xx: no 5xx count published
    assert sums("RequestCount") == {start: 50.0, start + timedelta(minutes=1): 40.0}
    assert sums("HTTPCode_Target_5XX_Count") == {start: 15.0}


def test_a_stopped_or_failing_primary_gets_route53s_failure_reports(primary: LocalPrimary) -> None:
    config = HealthCheckConfig("HTTP", "127.0.0.1", primary.port, path="/")
    primary.failing_percent = 100
    assert probe_status(config) == (False, "Failure: HTTP Status Code 500, Internal Server Error.")
    ok, report = probe_status(HealthCheckConfig("HTTP", "127.0.0.1", free_port(), path="/"))
    assert not ok
    assert report.startswith("Failure: Connection refused.")


def test_get_health_check_status_answers_the_local_checkers_reports(aws: str, primary: LocalPrimary) -> None:
    route53 = boto3.client("route53")
    made = route53.create_health_check(
        CallerReference="local-checkers",
        HealthCheckConfig={"Type": "HTTP", "IPAddress": "127.0.0.1", "Port": primary.port, "ResourcePath": "/"},
    )
    check_id = made["HealthCheck"]["Id"]
    check = HealthCheck(HealthCheckConfig("HTTP", "127.0.0.1", free_port(), path="/"))  # nothing listens there
    for checker in check.checkers:
        checker.observe(*probe_status(check.config))

    with reported_by(lambda asked: check.status_reports() if asked == check_id else None):
        observations = route53.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
        other = route53.create_health_check(
            CallerReference="not-ours", HealthCheckConfig={"Type": "TCP", "IPAddress": "127.0.0.2", "Port": 80}
        )["HealthCheck"]["Id"]
        (theirs,) = route53.get_health_check_status(HealthCheckId=other)["HealthCheckObservations"]
    assert [o["Region"] for o in observations] == ["us-east-1", "eu-west-1", "ap-southeast-1"]
    assert all(o["StatusReport"]["Status"].startswith("Failure: Connection refused.") for o in observations)
    assert theirs["StatusReport"]["Status"].startswith("Success")  # the emulator's own answer
    (after,) = route53.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
    assert after["StatusReport"]["Status"].startswith("Success")  # put back
