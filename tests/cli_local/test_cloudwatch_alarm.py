"""The rehearsal's CloudWatch alarm: the notification's shape, and Minimum-over-a-period evaluation."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3

from detour.incidents.alarm_message import parse_sns_event
from detour_cli.local.cloudwatch import HealthAlarm, lambda_event, notification

ALARM = {
    "AlarmName": "detour-primary-health",
    "AlarmDescription": "Detour: primary failing",
    "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:detour-primary-health",
    "Namespace": "AWS/Route53",
    "MetricName": "HealthCheckStatus",
    "Statistic": "Minimum",
    "Dimensions": [{"Name": "HealthCheckId", "Value": "hc-1"}],
    "Period": 60,
    "EvaluationPeriods": 1,
    "Threshold": 1.0,
    "ComparisonOperator": "LessThanThreshold",
    "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:topic"],
}


def test_the_notification_is_what_the_functions_parse() -> None:
    at = datetime(2026, 11, 21, 2, 14, 27, 123000, tzinfo=UTC)
    message = notification(ALARM, "ALARM", "OK", "Threshold Crossed", at)
    assert message["StateChangeTime"] == "2026-11-21T02:14:27.123+0000"
    assert message["Region"] == "US East (N. Virginia)"
    assert message["Trigger"]["Dimensions"] == [{"value": "hc-1", "name": "HealthCheckId"}]
    transition = parse_sns_event(lambda_event(ALARM["AlarmActions"][0], "m-1", message, at))
    assert (transition.site_id, transition.new_state, transition.changed_at) == ("hc-1", "ALARM", at)


def test_one_unhealthy_datapoint_in_a_period_is_enough_for_alarm(aws: str) -> None:
    cloudwatch = boto3.client("cloudwatch")
    topic = boto3.client("sns").create_topic(Name="alarm-topic")["TopicArn"]
    props = {k: v for k, v in ALARM.items() if k not in ("AlarmArn",)} | {"AlarmActions": [topic], "OKActions": [topic]}
    cloudwatch.put_metric_alarm(**props)
    delivered: list[dict[str, Any]] = []
    alarm = HealthAlarm("detour-primary-health", period_s=0.3, deliver=delivered.append)
    alarm.start()
    try:
        for healthy in (True, False, True):  # a blip within one period
            alarm.observe(healthy)
        deadline = time.monotonic() + 5
        while not delivered and time.monotonic() < deadline:
            time.sleep(0.05)
        alarm.observe(True)
        while len(delivered) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        alarm.stop()
    states = [json.loads(e["Records"][0]["Sns"]["Message"])["NewStateValue"] for e in delivered]
    assert states == ["ALARM", "OK"]
    assert cloudwatch.describe_alarms(AlarmNames=["detour-primary-health"])["MetricAlarms"][0]["StateValue"] == "OK"
