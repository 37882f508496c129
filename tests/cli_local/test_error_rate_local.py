"""error_rate in the local deployment (`detour demo`, `detour invoke --local`): the hub deployed into
the embedded AWS names it like its other functions, and its handler runs in-process with the
environment the template gives it, against the hub's own table and the emulator's CloudWatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3

from detour.incidents.sites import ErrorRate
from detour_cli.local.lambda_runtime import InProcessFunction
from detour_cli.local.sandbox import local_sandbox
from tests.support.sites import register_site

TARGET = ("targetgroup/shop-web/73e2d6bc24d8a067", "app/shop-alb/50dc6c495c0c9188")


def test_the_local_hub_runs_error_rate_with_its_template_environment() -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    minute = now - timedelta(minutes=2)
    with local_sandbox() as sandbox:
        stack = sandbox.stack
        assert stack.functions()["ErrorRateFunction"] == "error_rate"
        environment = stack.function_environment("ErrorRateFunction")
        assert environment["TABLE_NAME"] == stack.physical_id("IncidentsTable")
        assert environment["POWERTOOLS_SERVICE_NAME"] == "error_rate"
        assert stack.resolver.attributes[("ErrorRateFunction", "Arn")].endswith(":function:detour-ErrorRateFunction")

        register_site(
            environment["TABLE_NAME"],
            stack_name="detour-site-shop",
            error_rate=ErrorRate(TARGET[0], TARGET[1], threshold_percent=5.0, minutes=3, min_requests=20),
        )
        dimensions = [{"Name": "TargetGroup", "Value": TARGET[0]}, {"Name": "LoadBalancer", "Value": TARGET[1]}]
        balancer = [{"Name": "LoadBalancer", "Value": TARGET[1]}]
        cloudwatch = boto3.client("cloudwatch")
        cloudwatch.put_metric_data(
            Namespace="AWS/ApplicationELB",
            MetricData=[
                {"MetricName": "RequestCount", "Dimensions": dimensions, "Timestamp": minute, "Value": 50.0},
                {"MetricName": "RequestCount", "Dimensions": balancer, "Timestamp": minute, "Value": 50.0},
                {
                    "MetricName": "HTTPCode_Target_5XX_Count",
                    "Dimensions": dimensions,
                    "Timestamp": minute,
                    "Value": 10.0,
                },
            ],
        )

        function = InProcessFunction("error_rate", environment, function_name="detour-ErrorRateFunction")
        result = function.invoke({"source": "aws.events", "detail-type": "Scheduled Event", "time": now.isoformat()})

        # the two settled minutes without data, then the one with data; the newest two have none yet: not published
        assert result["rates"] == {"detour-site-shop": [0.0, 0.0, 20.0]}
        points = cloudwatch.get_metric_statistics(
            Namespace="Detour",
            MetricName="TargetErrorRate",
            Dimensions=[{"Name": "Site", "Value": "detour-site-shop"}],
            StartTime=now - timedelta(minutes=10),
            EndTime=now,
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
        assert {p["Timestamp"].astimezone(UTC): p["Maximum"] for p in points}[minute] == 20.0
