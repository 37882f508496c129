"""A deployed Detour, as far as `detour status` and `detour report` can see it, built in moto.

A small CloudFormation stack holds what the verbs read through describe_stacks: the parameters
(DomainName, HostedZoneId, PrimaryKind, PrimaryTarget), the health check and both failover records
(created by moto's CloudFormation, like template.yaml's), and Outputs with the names of what moto's
CloudFormation cannot create (the alarm, made with put_metric_alarm; the distribution, which only
needs a name here) and of the incidents table (the `incidents_table` fixture, from template.yaml).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3

from detour.incidents.store import IncidentStore
from detour.incidents.transition import AlarmState, Transition

STACK = "detour"
ZONE = "detour.test"
DOMAIN = "www.detour.test"
ALARM = "detour-primary-health"
DISTRIBUTION = "d1detourtest.cloudfront.net"
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"
ELB_ZONE = "Z35SXDOTRQ7X7K"
REFRESH_PAGE = "detour-RefreshPageFunction-TEST"
NOTIFY_SLACK = "detour-NotifySlackFunction-TEST"


@dataclass
class World:
    stack: str
    zone_id: str
    check_id: str
    table_name: str
    primary_kind: str
    primary_target: str

    @property
    def store(self) -> IncidentStore:
        return IncidentStore(self.table_name, boto3.client("dynamodb"))

    def invert(self, inverted: bool) -> None:
        """What `detour drill` and planned maintenance do to force failover."""
        boto3.client("route53").update_health_check(HealthCheckId=self.check_id, Inverted=inverted)

    def transition(self, state: str, at: datetime, reason: str = "", planned: bool = False) -> None:
        """An alarm transition, recorded as log_window records it; the windows follow from these."""
        self.store.record(
            Transition(
                site_id=self.check_id,
                alarm_name=ALARM,
                alarm_arn=f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{ALARM}",
                alarm_description="Detour: primary failing",
                account_id="123456789012",
                region="us-east-1",
                new_state=AlarmState(state),
                old_state=AlarmState.OK if state == "ALARM" else AlarmState.ALARM,
                reason=reason or f"{state} for the test",
                changed_at=at,
                planned=planned,  # as the functions mark it while a planned-maintenance notice is up
            )
        )

    def outage(self, start: datetime, end: datetime | None, reason: str = "", planned: bool = False) -> None:
        self.transition("ALARM", start, reason, planned=planned)
        if end is not None:
            self.transition("OK", end, planned=planned)


def build_world(table_name: str, primary_kind: str = "IPv4", primary_target: str = "192.0.2.10") -> World:
    route53 = boto3.client("route53")
    zone = route53.create_hosted_zone(Name=ZONE, CallerReference=str(uuid.uuid4()))
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    parameters = {
        "DomainName": DOMAIN,
        "HostedZoneId": zone_id,
        "PrimaryKind": primary_kind,
        "PrimaryTarget": primary_target,
        "IncidentsTableName": table_name,
    }
    cfn = boto3.client("cloudformation")
    cfn.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(stack_template(primary_kind)),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]}
    check_id = outputs["HealthCheckId"]
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=ALARM,
        Namespace="AWS/Route53",
        MetricName="HealthCheckStatus",
        Dimensions=[{"Name": "HealthCheckId", "Value": check_id}],
        Statistic="Minimum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
    )
    return World(STACK, zone_id, check_id, table_name, primary_kind, primary_target)


def stack_template(primary_kind: str, outputs: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The part of template.yaml the two verbs look at; `outputs` leaves some out (for error tests)."""
    load_balancer = primary_kind == "LoadBalancer"
    check_target = (
        {"FullyQualifiedDomainName": {"Ref": "PrimaryTarget"}}
        if load_balancer
        else {"IPAddress": {"Ref": "PrimaryTarget"}}
    )
    primary_answer: dict[str, Any] = (
        {"AliasTarget": {"DNSName": {"Ref": "PrimaryTarget"}, "HostedZoneId": ELB_ZONE, "EvaluateTargetHealth": True}}
        if load_balancer
        else {"ResourceRecords": [{"Ref": "PrimaryTarget"}], "TTL": "60"}
    )
    all_outputs = {
        "HealthCheckId": {"Value": {"Ref": "HealthCheck"}},
        "HealthAlarmName": {"Value": ALARM},
        "IncidentsTableName": {"Value": {"Ref": "IncidentsTableName"}},
        "DistributionDomainName": {"Value": DISTRIBUTION},
        # Names only: moto's Lambda runs no code without Docker; tests record the invocations instead.
        "RefreshPageFunctionName": {"Value": REFRESH_PAGE},
        "NotifySlackFunctionName": {"Value": NOTIFY_SLACK},
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            **{
                name: {"Type": "String"}
                for name in ("DomainName", "HostedZoneId", "PrimaryKind", "PrimaryTarget", "IncidentsTableName")
            },
            # As in template.yaml; `detour drill` reads its budget (interval x threshold) from these.
            "HealthCheckInterval": {"Type": "String", "Default": "10"},
            "HealthCheckFailureThreshold": {"Type": "String", "Default": "3"},
        },
        "Resources": {
            "HealthCheck": {
                "Type": "AWS::Route53::HealthCheck",
                "Properties": {
                    "HealthCheckConfig": {
                        "Type": "HTTPS",
                        "Port": 443,
                        "ResourcePath": "/health",
                        "RequestInterval": 10,
                        "FailureThreshold": 3,
                        "Regions": ["us-east-1", "eu-west-1", "ap-southeast-1"],
                        **check_target,
                    }
                },
            },
            "PrimaryRecordA": {
                "Type": "AWS::Route53::RecordSet",
                "Properties": {
                    "HostedZoneId": {"Ref": "HostedZoneId"},
                    "Name": {"Ref": "DomainName"},
                    "Type": "A",
                    "SetIdentifier": "detour-primary",
                    "Failover": "PRIMARY",
                    "HealthCheckId": {"Ref": "HealthCheck"},
                    **primary_answer,
                },
            },
            "SecondaryRecordA": {
                "Type": "AWS::Route53::RecordSet",
                "Properties": {
                    "HostedZoneId": {"Ref": "HostedZoneId"},
                    "Name": {"Ref": "DomainName"},
                    "Type": "A",
                    "SetIdentifier": "detour-maintenance",
                    "Failover": "SECONDARY",
                    "AliasTarget": {
                        "DNSName": DISTRIBUTION,
                        "HostedZoneId": CLOUDFRONT_ZONE,
                        "EvaluateTargetHealth": False,
                    },
                },
            },
        },
        "Outputs": {k: v for k, v in all_outputs.items() if outputs is None or k in outputs},
    }
