"""Build SNS events in the exact shape CloudWatch alarm notifications arrive in at Lambda."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

SITE_ID = "4a1b2c3d-1111-4e5f-9a7b-0123456789ab"
ALARM_NAME = "detour/detour-site-www/primary-health"  # <hub stack>/<site stack>/primary-health
ALARM_PREFIX = "detour/"
ACCOUNT = "123456789012"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:detour-AlarmTopic-1A2B3C4D5E6F"
REASONS = {
    "ALARM": "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (21/11/26 02:14:00)] was less than "
    "the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition).",
    "OK": "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (21/11/26 02:31:00)] was not less than "
    "the threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition).",
    "INSUFFICIENT_DATA": "Insufficient Data: 1 datapoint was unknown.",
}


def cloudwatch_time(moment: datetime) -> str:
    """CloudWatch's own format: `2026-11-21T02:14:27.123+0000`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def alarm_message(
    new_state: str,
    old_state: str,
    changed_at: datetime,
    *,
    site_id: str = SITE_ID,
    alarm_name: str = ALARM_NAME,
    description: str = "Detour: www.example.com primary failed its Route 53 health check.",
    reason: str | None = None,
) -> dict[str, Any]:
    return {
        "AlarmName": alarm_name,
        "AlarmDescription": description,
        "AWSAccountId": ACCOUNT,
        "AlarmConfigurationUpdatedTimestamp": "2026-11-01T09:00:00.000+0000",
        "NewStateValue": new_state,
        "NewStateReason": reason if reason is not None else REASONS[new_state],
        "StateChangeTime": cloudwatch_time(changed_at),
        "Region": "US East (N. Virginia)",
        "AlarmArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{alarm_name}",
        "OldStateValue": old_state,
        "OKActions": [TOPIC_ARN],
        "AlarmActions": [TOPIC_ARN],
        "InsufficientDataActions": [TOPIC_ARN],
        "Trigger": {
            "MetricName": "HealthCheckStatus",
            "Namespace": "AWS/Route53",
            "StatisticType": "Statistic",
            "Statistic": "MINIMUM",
            "Unit": None,
            "Dimensions": [{"value": site_id, "name": "HealthCheckId"}],
            "Period": 60,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 1.0,
            "TreatMissingData": "missing",
            "EvaluateLowSampleCountPercentile": "",
        },
    }


def sns_event(message: dict[str, Any] | str, *, message_id: str | None = None) -> dict[str, Any]:
    """Wrap a message the way SNS invokes Lambda: one record, the message as a JSON string."""
    body = message if isinstance(message, str) else json.dumps(message)
    subject = None
    if isinstance(message, dict) and "AlarmName" in message:
        subject = f'{message["NewStateValue"]}: "{message["AlarmName"]}" in US East (N. Virginia)'
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{TOPIC_ARN}:0b6941c3-f04d-4d3e-a66d-b1df00e1e381",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id or str(uuid.uuid4()),
                    "TopicArn": TOPIC_ARN,
                    "Subject": subject,
                    "Message": body,
                    "Timestamp": "2026-11-21T02:14:31.456Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def transition_event(
    new_state: str, old_state: str, changed_at: datetime, *, message_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    return sns_event(alarm_message(new_state, old_state, changed_at, **fields), message_id=message_id)
