from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from detour.incidents.alarm_message import InvalidAlarmMessage, UnknownAlarm, parse_alarm_message, parse_sns_event
from detour.incidents.transition import AlarmState
from tests.support.events import ALARM_NAME, ALARM_PREFIX, SITE_ID, alarm_message, sns_event, transition_event

T0 = datetime(2026, 11, 21, 2, 14, 27, 123000, tzinfo=UTC)


@pytest.mark.parametrize(("new", "old"), [("ALARM", "OK"), ("OK", "ALARM"), ("INSUFFICIENT_DATA", "ALARM")])
def test_parses_each_state_into_a_typed_transition(new: str, old: str) -> None:
    transition = parse_sns_event(transition_event(new, old, T0), alarm_prefix=ALARM_PREFIX)

    assert transition.site_id == SITE_ID
    assert transition.new_state is AlarmState(new)
    assert transition.old_state is AlarmState(old)
    assert transition.changed_at == T0
    assert transition.changed_at.tzinfo is not None
    assert transition.region == "us-east-1"  # from the ARN, not the "US East (N. Virginia)" display name
    assert transition.account_id == "123456789012"
    assert transition.reason.startswith(("Threshold Crossed", "Insufficient Data"))


def test_state_change_time_with_an_offset_becomes_utc() -> None:
    message = alarm_message("ALARM", "OK", T0)
    message["StateChangeTime"] = "2026-11-21T03:14:27.123+0100"
    assert parse_alarm_message(json.dumps(message)).changed_at == T0


def test_console_links_point_at_the_alarm_and_the_health_check() -> None:
    transition = parse_alarm_message(json.dumps(alarm_message("ALARM", "OK", T0, alarm_name="a b/c")))
    assert transition.alarm_console_url == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/a%20b%2Fc"
    )
    assert transition.health_check_console_url.endswith(f"/route53/healthchecks/home#/details/{SITE_ID}")


def test_the_transition_key_is_the_alarm_and_its_change_time() -> None:
    transition = parse_alarm_message(json.dumps(alarm_message("ALARM", "OK", T0)))
    assert transition.key == f"2026-11-21T02:14:27.123Z#{ALARM_NAME}"


def test_metric_math_alarm_accepts_capitalised_dimensions_too() -> None:
    message = alarm_message("ALARM", "OK", T0)
    metric = {"Namespace": "AWS/Route53", "MetricName": "HealthCheckStatus"}
    metric["Dimensions"] = [{"Name": "HealthCheckId", "Value": "hc-capitalised"}]  # type: ignore[assignment]
    message["Trigger"] = {"Metrics": [{"Id": "m1", "MetricStat": {"Metric": metric}}]}
    assert parse_alarm_message(json.dumps(message)).site_id == "hc-capitalised"


def test_metric_math_alarm_takes_the_health_check_from_its_inputs() -> None:
    message = alarm_message("ALARM", "OK", T0)
    message["Trigger"] = {
        "Metrics": [
            {"Id": "e1", "Expression": "m1 * 1", "ReturnData": True},
            {
                "Id": "m1",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Route53",
                        "MetricName": "HealthCheckStatus",
                        "Dimensions": [{"value": "hc-from-math", "name": "HealthCheckId"}],
                    },
                    "Period": 60,
                    "Stat": "Minimum",
                },
                "ReturnData": False,
            },
        ],
        "ComparisonOperator": "LessThanThreshold",
        "Threshold": 1.0,
    }
    assert parse_alarm_message(json.dumps(message)).site_id == "hc-from-math"


def _with(**changes: object) -> str:
    message = alarm_message("ALARM", "OK", T0)
    for key, value in changes.items():
        if value is None:
            message.pop(key)
        else:
            message[key] = value
    return json.dumps(message)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("{not json", "SNS message is not JSON"),
        ('"just a string"', "not a CloudWatch alarm notification"),
        (json.dumps({"Type": "Notification", "Records": []}), "not a CloudWatch alarm notification"),
        (_with(StateChangeTime=None), "missing field(s) StateChangeTime"),
        (_with(AlarmArn="", Trigger=None), "missing field(s) AlarmArn, Trigger"),
        (_with(NewStateValue="BROKEN"), "NewStateValue 'BROKEN' is not one of ALARM, OK, INSUFFICIENT_DATA"),
        (_with(StateChangeTime="yesterday"), "StateChangeTime 'yesterday' is not an ISO 8601 time"),
        (_with(StateChangeTime="2026-11-21T02:14:27"), "is not an ISO 8601 time with an offset"),
        (_with(AlarmArn="not-an-arn"), "AlarmArn 'not-an-arn' is not a CloudWatch alarm ARN"),
        (
            # a region that would turn console links into someone else's site
            _with(AlarmArn="arn:aws:cloudwatch:evil.example/x?:123456789012:alarm:detour-primary-health"),
            "is not a CloudWatch alarm ARN",
        ),
        (_with(AlarmArn="arn:aws:cloudwatch:us-east-1:12345:alarm:x"), "is not a CloudWatch alarm ARN"),
        (_with(AlarmArn="arn:aws:sns:us-east-1:123456789012:alarm:x"), "is not a CloudWatch alarm ARN"),
        (_with(AlarmName=["list"]), "field AlarmName is list, expected text"),
        (_with(Trigger="x"), "'Trigger' is not an object"),
        (
            _with(Trigger={"Namespace": "AWS/EC2", "MetricName": "CPUUtilization", "Dimensions": []}),
            "watches AWS/EC2/CPUUtilization, not AWS/Route53/HealthCheckStatus",
        ),
        (
            _with(Trigger={"Namespace": "AWS/Route53", "MetricName": "HealthCheckStatus", "Dimensions": []}),
            "metric has no HealthCheckId dimension",
        ),
        (
            _with(Trigger={"Metrics": [{"Id": "e1", "Expression": "SEARCH(...)"}]}),
            "metric-math alarm with no AWS/Route53/HealthCheckStatus input carrying a HealthCheckId",
        ),
    ],
)
def test_rejects_what_is_not_a_health_check_alarm_with_a_specific_error(message: str, error: str) -> None:
    with pytest.raises(InvalidAlarmMessage) as raised:
        parse_sns_event(sns_event(message))
    assert error in str(raised.value)


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({}, "expected 'Records' with exactly one record"),
        ({"Records": []}, "expected 'Records' with exactly one record"),
        ({"Records": [{}, {}]}, "expected 'Records' with exactly one record"),
        ({"Records": [{"EventSource": "aws:sqs", "body": "{}"}]}, "'Records[0].Sns.Message' is missing"),
        ({"Records": [{"Sns": {"Message": {"AlarmName": "x"}}}]}, "is missing or not a string"),
        ([], "expected 'Records'"),
    ],
)
def test_rejects_events_that_are_not_from_sns(event: object, error: str) -> None:
    with pytest.raises(InvalidAlarmMessage) as raised:
        parse_sns_event(event)  # type: ignore[arg-type]
    assert error in str(raised.value)


@pytest.mark.parametrize(
    "alarm_name",
    [
        "someone-elses-alarm",
        "detour-primary-health",  # a single-site stack's name: not a site alarm of this hub
        "detour-staging/detour-site-www/primary-health",  # another hub whose name starts like this one's
    ],
)
def test_an_alarm_this_deployment_does_not_manage_is_unknown(alarm_name: str) -> None:
    event = transition_event("ALARM", "OK", T0, alarm_name=alarm_name)
    with pytest.raises(UnknownAlarm, match=f"'{alarm_name}' is not managed by this deployment.*detour/<site stack>"):
        parse_sns_event(event, alarm_prefix=ALARM_PREFIX)
