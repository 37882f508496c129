"""Turn an SNS-delivered CloudWatch alarm notification into a `Transition`, or say exactly why not.

Every rejection raises `InvalidAlarmMessage` (or `UnknownAlarm`) with a message that names the
problem, so the function fails loudly: SNS/Lambda retry, then the dead-letter queue keeps the event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from detour.incidents.transition import AlarmState, Transition, parse_time

NAMESPACE = "AWS/Route53"
METRIC = "HealthCheckStatus"
DIMENSION = "HealthCheckId"
# The region and account end up in console links posted to Slack: only real-looking ones pass.
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
ACCOUNT = re.compile(r"^\d{12}$")
REQUIRED_FIELDS = ("AlarmName", "AlarmArn", "NewStateValue", "OldStateValue", "StateChangeTime", "Trigger")


class InvalidAlarmMessage(ValueError):
    """The event is not a usable Route 53 health-check alarm notification."""


class UnknownAlarm(InvalidAlarmMessage):
    """A well-formed alarm that this deployment does not manage."""


def parse_sns_event(event: Mapping[str, Any], alarm_prefix: str = "") -> Transition:
    """Parse the Lambda event SNS sends (always one record) into a transition."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list) or len(records) != 1:
        raise InvalidAlarmMessage("not an SNS event: expected 'Records' with exactly one record")
    record = records[0]
    sns = record.get("Sns") if isinstance(record, Mapping) else None
    if not isinstance(sns, Mapping) or not isinstance(sns.get("Message"), str):
        raise InvalidAlarmMessage("not an SNS event: 'Records[0].Sns.Message' is missing or not a string")
    return parse_alarm_message(sns["Message"], alarm_prefix)


def parse_alarm_message(message: str, alarm_prefix: str = "") -> Transition:
    """Parse the JSON text CloudWatch publishes to SNS when an alarm changes state. An alarm whose
    name does not start with `alarm_prefix` (the hub's "<stack>/") is not this hub's."""
    try:
        body = json.loads(message)
    except json.JSONDecodeError as error:
        raise InvalidAlarmMessage(f"SNS message is not JSON ({error.msg} at position {error.pos})") from None
    if not isinstance(body, dict) or "AlarmName" not in body or "NewStateValue" not in body:
        raise InvalidAlarmMessage("SNS message is JSON but not a CloudWatch alarm notification")

    missing = [name for name in REQUIRED_FIELDS if body.get(name) in (None, "")]
    if missing:
        raise InvalidAlarmMessage(f"alarm {body['AlarmName']!r}: missing field(s) {', '.join(missing)}")

    alarm_name = _text(body, "AlarmName")
    if not alarm_name.startswith(alarm_prefix):
        raise UnknownAlarm(
            f"alarm {alarm_name!r} is not managed by this deployment (its site alarms are named "
            f"{alarm_prefix}<site stack>/primary-health); check the subscription's filter policy"
        )
    alarm_arn = _text(body, "AlarmArn")
    health_check_id = _health_check_id(alarm_name, body["Trigger"])
    return Transition(
        site_id=health_check_id,
        health_check_id=health_check_id,
        alarm_name=alarm_name,
        alarm_arn=alarm_arn,
        alarm_description=str(body.get("AlarmDescription") or ""),
        account_id=_arn_part(alarm_arn, 4, ACCOUNT),
        region=_arn_part(alarm_arn, 3, REGION),
        new_state=_state(alarm_name, body, "NewStateValue"),
        old_state=_state(alarm_name, body, "OldStateValue"),
        reason=str(body.get("NewStateReason") or ""),
        changed_at=_changed_at(alarm_name, body["StateChangeTime"]),
    )


def _health_check_id(alarm_name: str, trigger: Any) -> str:
    if not isinstance(trigger, Mapping):
        raise InvalidAlarmMessage(f"alarm {alarm_name!r}: 'Trigger' is not an object")
    if "Metrics" in trigger and "MetricName" not in trigger:
        return _health_check_id_from_math(alarm_name, trigger["Metrics"])
    namespace, metric = trigger.get("Namespace"), trigger.get("MetricName")
    if (namespace, metric) != (NAMESPACE, METRIC):
        raise InvalidAlarmMessage(
            f"alarm {alarm_name!r} watches {namespace}/{metric}, not {NAMESPACE}/{METRIC}: "
            "Detour only acts on Route 53 health-check alarms"
        )
    site_id = _dimension(trigger.get("Dimensions"), "name", "value")
    if not site_id:
        raise InvalidAlarmMessage(f"alarm {alarm_name!r}: metric has no {DIMENSION} dimension")
    return site_id


def _health_check_id_from_math(alarm_name: str, metrics: Any) -> str:
    """Metric-math alarms list their inputs under `Trigger.Metrics[].MetricStat.Metric`."""
    for query in metrics if isinstance(metrics, list) else []:
        metric = ((query or {}).get("MetricStat") or {}).get("Metric") or {}
        if (metric.get("Namespace"), metric.get("MetricName")) == (NAMESPACE, METRIC):
            # CloudWatch writes lower-case {name, value} here too; accept both spellings.
            site_id = _dimension(metric.get("Dimensions"), "name", "value") or _dimension(
                metric.get("Dimensions"), "Name", "Value"
            )
            if site_id:
                return site_id
    raise InvalidAlarmMessage(
        f"alarm {alarm_name!r} is a metric-math alarm with no {NAMESPACE}/{METRIC} input "
        f"carrying a {DIMENSION} dimension"
    )


def _dimension(dimensions: Any, name_key: str, value_key: str) -> str | None:
    """CloudWatch writes `{name, value}` in Trigger.Dimensions but `{Name, Value}` in metric math."""
    for dimension in dimensions if isinstance(dimensions, list) else []:
        if isinstance(dimension, Mapping) and dimension.get(name_key) == DIMENSION and dimension.get(value_key):
            return str(dimension[value_key])
    return None


def _state(alarm_name: str, body: Mapping[str, Any], field: str) -> AlarmState:
    try:
        return AlarmState(body[field])
    except ValueError:
        allowed = ", ".join(AlarmState)
        raise InvalidAlarmMessage(f"alarm {alarm_name!r}: {field} {body[field]!r} is not one of {allowed}") from None


def _changed_at(alarm_name: str, value: Any) -> datetime:
    try:
        return parse_time(str(value))
    except ValueError:
        raise InvalidAlarmMessage(
            f"alarm {alarm_name!r}: StateChangeTime {value!r} is not an ISO 8601 time with an offset"
        ) from None


def _text(body: Mapping[str, Any], field: str) -> str:
    value = body[field]
    if not isinstance(value, str):
        raise InvalidAlarmMessage(f"field {field} is {type(value).__name__}, expected text")
    return value


def _arn_part(arn: str, index: int, pattern: re.Pattern[str]) -> str:
    """`arn:aws:cloudwatch:us-east-1:123456789012:alarm:name` -> region (3) or account (4).

    The message's own `Region` is a display name ("US East (N. Virginia)"), so the ARN is the source.
    """
    parts = arn.split(":")
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "cloudwatch" or not pattern.match(parts[index]):
        raise InvalidAlarmMessage(f"AlarmArn {arn!r} is not a CloudWatch alarm ARN")
    return parts[index]
