"""The health-check alarm, played locally: CloudWatch's state changes and the exact notification it
publishes to SNS, delivered to the subscribed handlers the way SNS invokes Lambda.

The emulator has no metrics, so the alarm follows the local health check's verdict: a verdict held
for the alarm's period (shortened in a rehearsal) moves the alarm to ALARM or OK, as a one-minute
`Minimum of HealthCheckStatus < 1` alarm would.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3

REGION_NAME = "US East (N. Virginia)"  # what CloudWatch writes in `Region`; the code is in AlarmArn


def cloudwatch_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def notification(alarm: dict[str, Any], new_state: str, old_state: str, reason: str, at: datetime) -> dict[str, Any]:
    """The JSON CloudWatch publishes to SNS for an alarm state change, from the alarm's definition."""
    return {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription", ""),
        "AWSAccountId": alarm["AlarmArn"].split(":")[4],
        "AlarmConfigurationUpdatedTimestamp": cloudwatch_time(alarm.get("AlarmConfigurationUpdatedTimestamp", at)),
        "NewStateValue": new_state,
        "NewStateReason": reason,
        "StateChangeTime": cloudwatch_time(at),
        "Region": REGION_NAME,
        "AlarmArn": alarm["AlarmArn"],
        "OldStateValue": old_state,
        "OKActions": alarm.get("OKActions", []),
        "AlarmActions": alarm.get("AlarmActions", []),
        "InsufficientDataActions": alarm.get("InsufficientDataActions", []),
        "Trigger": {
            "MetricName": alarm["MetricName"],
            "Namespace": alarm["Namespace"],
            "StatisticType": "Statistic",
            "Statistic": alarm["Statistic"].upper(),
            "Unit": None,
            "Dimensions": [{"value": d["Value"], "name": d["Name"]} for d in alarm.get("Dimensions", [])],
            "Period": alarm["Period"],
            "EvaluationPeriods": alarm["EvaluationPeriods"],
            "ComparisonOperator": alarm["ComparisonOperator"],
            "Threshold": float(alarm["Threshold"]),
            "TreatMissingData": alarm.get("TreatMissingData", "missing"),
            "EvaluateLowSampleCountPercentile": "",
        },
    }


def lambda_event(topic_arn: str, message_id: str, message: dict[str, Any], at: datetime) -> dict[str, Any]:
    """How SNS invokes a Lambda subscriber: one record, the message as a JSON string."""
    subject = f'{message["NewStateValue"]}: "{message["AlarmName"]}" in {REGION_NAME}'
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": subject[:100],
                    "Message": json.dumps(message),
                    "Timestamp": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "SignatureVersion": "1",
                    "Signature": "LOCAL",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-local.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def reason_for(new_state: str, period_s: float, at: datetime) -> str:
    value, relation = ("0.0", "was less than") if new_state == "ALARM" else ("1.0", "was not less than")
    old = "OK" if new_state == "ALARM" else "ALARM"
    return (
        f"Threshold Crossed: 1 out of the last 1 datapoints [{value} ({at:%d/%m/%y %H:%M:%S})] {relation} the "
        f"threshold (1.0) (minimum 1 datapoint for {old} -> {new_state} transition). "
        f"[local rehearsal: period {period_s:g} s]"
    )


class HealthAlarm:
    """`Minimum of HealthCheckStatus < 1 for 1 period`, played locally: every period, the verdicts the
    health check reported during it are reduced to their minimum (one unhealthy verdict is enough
    for ALARM, as with the real one-minute metric); a change of state publishes CloudWatch's
    notification and delivers it. A period without data changes nothing here. (The deploy-time
    INSUFFICIENT_DATA -> OK notification is not played: the rehearsal starts after it.)"""

    def __init__(self, alarm_name: str, period_s: float, deliver: Callable[[dict[str, Any]], None]) -> None:
        self.alarm_name = alarm_name
        self.period_s = period_s
        self.state = "OK"
        self._deliver = deliver
        self._samples: list[bool] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._evaluate, name="cloudwatch-alarm", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def observe(self, healthy: bool) -> None:
        """One HealthCheckStatus datapoint: 1 healthy, 0 not."""
        with self._lock:
            self._samples.append(healthy)

    def _evaluate(self) -> None:
        while not self._stop.wait(self.period_s):
            with self._lock:
                samples, self._samples = self._samples, []
            if not samples:
                continue
            target = "OK" if all(samples) else "ALARM"
            if target != self.state:
                self.change(target)

    def change(self, new_state: str) -> dict[str, Any]:
        """Change state now: record it in the emulator, publish to the topic, deliver to the handlers."""
        old_state, self.state = self.state, new_state
        cloudwatch = boto3.client("cloudwatch")
        alarm = cloudwatch.describe_alarms(AlarmNames=[self.alarm_name])["MetricAlarms"][0]
        at = datetime.now(UTC)
        reason = reason_for(new_state, self.period_s, at)
        cloudwatch.set_alarm_state(AlarmName=self.alarm_name, StateValue=new_state, StateReason=reason)
        message = notification(alarm, new_state, old_state, reason, at)
        actions = {"ALARM": "AlarmActions", "OK": "OKActions"}.get(new_state, "InsufficientDataActions")
        event: dict[str, Any] = {}
        for topic_arn in alarm.get(actions, []):
            message_id = boto3.client("sns").publish(TopicArn=topic_arn, Message=json.dumps(message))["MessageId"]
            event = lambda_event(topic_arn, message_id, message, at)
            self._deliver(event)
        return event
