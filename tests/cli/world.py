"""A deployed Detour, as far as the operator verbs can see it, built in moto: a hub stack and one
or more registered sites, each with a small site stack.

The hub stack (`detour`) has the Outputs the verbs read from the hub: the incidents table (the
`incidents_table` fixture, from template.yaml) and the names of the functions (names only: moto's
Lambda runs no code without Docker; tests record the invocations instead). Each site stack
(`detour-site-<name>`) holds what the verbs read through describe_stacks: the parameters
(DomainName, HostedZoneId, PrimaryKind, PrimaryTarget, the health-check settings), the health check
and both failover records (created by moto's CloudFormation, like sites/site.yaml's), and Outputs
naming what moto's CloudFormation cannot create (the alarm, made with put_metric_alarm; the
distribution, which only needs a name here). The site is registered in the hub's table, as its
`Custom::DetourSite` would register it.

`add_signals` gives a site failover signals as sites/site.yaml does (ADR 0002): an alarm per signal
(put_metric_alarm) with its alarm-backed health check, and a CALCULATED failover check over the
endpoint check and those, which the PRIMARY record then watches; optionally a replaced endpoint
check, so that the site's id is no longer the id of the check Route 53 probes with.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from detour.incidents.sites import ErrorRate, RegisteredSite, Signal, SignalKind, SiteRegistry
from detour.incidents.store import IncidentStore
from detour.incidents.transition import AlarmState, Transition, format_time
from tests.cli.dns_server import ALARM_TAG, CHILDREN_TAG

STACK = "detour"  # the hub
ZONE = "detour.test"
SITE = "www"
SITE_STACK = f"detour-site-{SITE}"
DOMAIN = "www.detour.test"
ALARM = f"{STACK}/{SITE_STACK}/primary-health"
DISTRIBUTION = "d1detourtest.cloudfront.net"
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"
ELB_ZONE = "Z35SXDOTRQ7X7K"
REFRESH_PAGE = "detour-RefreshPageFunction-TEST"
NOTIFY_SLACK = "detour-NotifySlackFunction-TEST"
PAGE_BUCKET = "detour-pagebucket-test"
# A second site in the same zone, for the verbs that serve several.
OTHER_SITE = "api"
OTHER_DOMAIN = "api.detour.test"
OTHER_DISTRIBUTION = "d2detourtest.cloudfront.net"
OTHER_SITE_NAME = "Detour API"


@dataclass
class World:
    """One registered site of the hub (the hub's stack is `stack`)."""

    stack: str
    zone_id: str
    check_id: str
    table_name: str
    primary_kind: str
    primary_target: str
    site_stack: str = SITE_STACK
    domain: str = DOMAIN
    alarm: str = ALARM
    distribution: str = DISTRIBUTION
    endpoint_check_id: str = ""  # empty: check_id (the site's id is its first endpoint check's)
    failover_check_id: str = ""  # empty: the endpoint check

    @property
    def endpoint_check(self) -> str:
        return self.endpoint_check_id or self.check_id

    @property
    def failover_check(self) -> str:
        """What the PRIMARY record watches."""
        return self.failover_check_id or self.endpoint_check

    @property
    def store(self) -> IncidentStore:
        return IncidentStore(self.table_name, boto3.client("dynamodb"))

    @property
    def registry(self) -> SiteRegistry:
        return SiteRegistry(self.table_name, boto3.client("dynamodb"))

    @property
    def site(self) -> RegisteredSite:
        return self.registry.require(self.check_id)

    def invert(self, inverted: bool) -> None:
        """What `detour drill` and planned maintenance do to force failover."""
        boto3.client("route53").update_health_check(HealthCheckId=self.endpoint_check, Inverted=inverted)

    def transition(self, state: str, at: datetime, reason: str = "", planned: bool = False) -> None:
        """An alarm transition, recorded as log_window records it; the windows follow from these."""
        self.store.record(
            Transition(
                site_id=self.check_id,
                alarm_name=self.alarm,
                alarm_arn=f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{self.alarm}",
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


def build_world(
    table_name: str,
    primary_kind: str = "IPv4",
    primary_target: str = "192.0.2.10",
    *,
    site: str = SITE,
    domain: str = DOMAIN,
    distribution: str = DISTRIBUTION,
    site_name: str = "",
    slack_channel: str = "",
) -> World:
    """The hub (made if it is not there yet) and one more site in the test zone."""
    cfn = boto3.client("cloudformation")
    _hub(cfn, table_name)
    zone_id = _zone()
    site_stack = f"detour-site-{site}"
    alarm = f"{STACK}/{site_stack}/primary-health"
    parameters = {
        "HubStackName": STACK,
        "DomainName": domain,
        "HostedZoneId": zone_id,
        "PrimaryKind": primary_kind,
        "PrimaryTarget": primary_target,
        "SiteName": site_name,
        "SlackChannel": slack_channel,
    }
    cfn.create_stack(
        StackName=site_stack,
        TemplateBody=json.dumps(stack_template(primary_kind, alarm=alarm, distribution=distribution)),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    described = cfn.describe_stacks(StackName=site_stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    check_id = outputs["HealthCheckId"]
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm,
        Namespace="AWS/Route53",
        MetricName="HealthCheckStatus",
        Dimensions=[{"Name": "HealthCheckId", "Value": check_id}],
        Statistic="Minimum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
    )
    SiteRegistry(table_name, boto3.client("dynamodb")).put(
        RegisteredSite(
            site_id=check_id,
            domain=domain,
            site_name=site_name or domain,
            alarm_name=alarm,
            distribution_id=outputs["DistributionId"],
            page_url=f"https://{distribution}/",
            stack_name=site_stack,
            default_message="We are working to restore the service as quickly as possible.",
            slack_channel=slack_channel,
            template_version="1",
            registered_at=format_time(datetime.now(UTC)),
        )
    )
    return World(
        STACK, zone_id, check_id, table_name, primary_kind, primary_target, site_stack, domain, alarm, distribution
    )


def add_other_site(world: World, primary_target: str = "192.0.2.20") -> World:
    """A second site, api.detour.test, in the same hub and zone."""
    return build_world(
        world.table_name,
        primary_target=primary_target,
        site=OTHER_SITE,
        domain=OTHER_DOMAIN,
        distribution=OTHER_DISTRIBUTION,
        site_name=OTHER_SITE_NAME,
        slack_channel="C0APITEAM1",
    )


SIGNAL_ALARM = f"{STACK}/{SITE_STACK}/checkout-errors"  # an alarm the operator named (SignalAlarm1)
ERROR_RATE_ALARM = f"{STACK}/{SITE_STACK}/error-rate"  # Detour's own 5xx-rate signal


def add_signals(
    world: World,
    signals: tuple[tuple[str, SignalKind, str], ...] = (
        ("checkout-errors", SignalKind.ALARM, SIGNAL_ALARM),
        ("error-rate", SignalKind.ERROR_RATE, ERROR_RATE_ALARM),
    ),
    *,
    signals_to_fail_over: int = 1,
    insufficient_data: str = "LastKnownStatus",
    replace_endpoint_check: bool = False,
    error_rate_minutes: int = 3,
    error_rate_percent: float = 5,
) -> World:
    """The site with failover signals (name, kind, alarm name), as its site stack would have them: with a
    5xx-rate signal, its ErrorRate settings (`error_rate_minutes` above `error_rate_percent`) and its alarm
    as ErrorRateAlarm (Maximum, 60 s, Minutes of Minutes periods, TreatMissingData missing)."""
    route53, cloudwatch = boto3.client("route53"), boto3.client("cloudwatch")
    endpoint = world.endpoint_check
    if replace_endpoint_check:  # e.g. its protocol changed: CloudFormation made a new one
        config = route53.get_health_check(HealthCheckId=endpoint)["HealthCheck"]["HealthCheckConfig"]
        kept = ("Type", "IPAddress", "FullyQualifiedDomainName", "Port", "ResourcePath", "RequestInterval")
        endpoint = _health_check(route53, {k: config[k] for k in kept if k in config})
    registered = []
    error_rate = None
    for name, kind, alarm_name in signals:
        rate = kind is SignalKind.ERROR_RATE
        periods = error_rate_minutes if rate else 3
        cloudwatch.put_metric_alarm(
            AlarmName=alarm_name,
            Namespace="Detour" if rate else "Shop",
            MetricName="TargetErrorRate" if rate else "CheckoutErrors",
            Dimensions=[{"Name": "Site", "Value": world.site_stack}],
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=periods,
            DatapointsToAlarm=periods,
            Threshold=error_rate_percent if rate else 5,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="missing",
        )
        if rate:
            error_rate = ErrorRate(
                "targetgroup/www/0123456789abcdef", "app/www/0123456789abcdef", error_rate_percent, periods, 20
            )
        check = _health_check(
            route53,
            {
                "Type": "CLOUDWATCH_METRIC",
                "AlarmIdentifier": {"Region": "us-east-1", "Name": alarm_name},
                "InsufficientDataHealthStatus": insufficient_data,
            },
        )
        route53.change_tags_for_resource(
            ResourceType="healthcheck", ResourceId=check, AddTags=[{"Key": ALARM_TAG, "Value": alarm_name}]
        )
        registered.append(Signal(name, kind, alarm_name, check))
    children = [endpoint, *(signal.health_check_id for signal in registered)]
    failover = _health_check(
        route53,
        {
            "Type": "CALCULATED",
            "ChildHealthChecks": children,
            "HealthThreshold": len(children) - signals_to_fail_over + 1,
        },
    )
    route53.change_tags_for_resource(
        ResourceType="healthcheck", ResourceId=failover, AddTags=[{"Key": CHILDREN_TAG, "Value": ",".join(children)}]
    )
    _watch(world, failover)
    world.registry.put(
        replace(
            world.site,
            endpoint_check_id=endpoint,
            failover_check_id=failover,
            signals=tuple(registered),
            signals_to_fail_over=signals_to_fail_over,
            signal_insufficient_data=insufficient_data,
            error_rate=error_rate,
        )
    )
    return replace(world, endpoint_check_id=endpoint, failover_check_id=failover)


def _health_check(route53: Any, config: dict[str, Any]) -> str:
    made = route53.create_health_check(CallerReference=str(uuid.uuid4()), HealthCheckConfig=config)
    return str(made["HealthCheck"]["Id"])


def _watch(world: World, check_id: str) -> None:
    """The site's PRIMARY record watches `check_id` (its failover check)."""
    route53 = boto3.client("route53")
    records = route53.list_resource_record_sets(HostedZoneId=world.zone_id)["ResourceRecordSets"]
    [primary] = [
        r
        for r in records
        if r["Name"].rstrip(".") == world.domain and r.get("Failover") == "PRIMARY" and r["Type"] == "A"
    ]
    route53.change_resource_record_sets(
        HostedZoneId=world.zone_id,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {**primary, "HealthCheckId": check_id}}]},
    )


def _hub(cfn: Any, table_name: str) -> None:
    try:
        cfn.describe_stacks(StackName=STACK)
        return
    except ClientError:
        pass
    cfn.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(hub_template()),
        Parameters=[{"ParameterKey": "IncidentsTableName", "ParameterValue": table_name}],
    )


def _zone() -> str:
    route53 = boto3.client("route53")
    for zone in route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]:
        if zone["Name"].rstrip(".") == ZONE:
            return str(zone["Id"].rsplit("/", 1)[-1])
    zone = route53.create_hosted_zone(Name=ZONE, CallerReference=str(uuid.uuid4()))
    return str(zone["HostedZone"]["Id"].rsplit("/", 1)[-1])


def hub_template(outputs: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The part of template.yaml the verbs look at; `outputs` leaves some out (for error tests)."""
    all_outputs = {
        "IncidentsTableName": {"Value": {"Ref": "IncidentsTableName"}},
        "RefreshPageFunctionName": {"Value": REFRESH_PAGE},
        "NotifySlackFunctionName": {"Value": NOTIFY_SLACK},
        "PageBucketName": {"Value": PAGE_BUCKET},
        "SiteTemplateVersion": {"Value": "1"},
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"IncidentsTableName": {"Type": "String"}},
        "Resources": {"AlarmTopic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: v for k, v in all_outputs.items() if outputs is None or k in outputs},
    }


def stack_template(
    primary_kind: str,
    outputs: tuple[str, ...] | None = None,
    *,
    alarm: str = ALARM,
    distribution: str = DISTRIBUTION,
) -> dict[str, Any]:
    """The part of sites/site.yaml the verbs look at; `outputs` leaves some out (for error tests)."""
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
        "HealthAlarmName": {"Value": alarm},
        "DistributionId": {"Value": "E" + distribution.split(".", 1)[0].upper()},
        "DistributionDomainName": {"Value": distribution},
        "SiteName": {"Value": {"Ref": "DomainName"}},
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            **{
                name: {"Type": "String"}
                for name in ("HubStackName", "DomainName", "HostedZoneId", "PrimaryKind", "PrimaryTarget")
            },
            "SiteName": {"Type": "String", "Default": ""},
            "SlackChannel": {"Type": "String", "Default": ""},
            # As in sites/site.yaml; `detour drill` reads its budget (interval x threshold) from these.
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
                        "DNSName": distribution,
                        "HostedZoneId": CLOUDFRONT_ZONE,
                        "EvaluateTargetHealth": False,
                    },
                },
            },
        },
        "Outputs": {k: v for k, v in all_outputs.items() if outputs is None or k in outputs},
    }
