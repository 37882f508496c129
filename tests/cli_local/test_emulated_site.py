"""A site stack in the embedded AWS: sites/site.yaml deployed with the hub's exports, its custom
resource run on CloudFormation's own request, its alarm after it, and its deletion in reverse order."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from detour_cli.local.emulated_stack import CustomResourceFailed, EmulatedStack, delete_stack
from detour_cli.local.sandbox import LocalSandbox, local_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    with local_sandbox() as running:
        yield running


class Recorder:
    """Plays the hub's site_setup: answers every request SUCCESS (physical id: the endpoint check's id, as
    site_setup's for a new site), and keeps them."""

    def __init__(self, status: str = "SUCCESS") -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.status = status

    def __call__(self, token: str, event: dict[str, Any]) -> None:
        self.requests.append((token, event))
        properties = event["ResourceProperties"]
        site_id = properties.get("EndpointCheckId") or properties["SiteId"]  # SiteId: a site stack before ADR 0002
        body = json.dumps(
            {
                "Status": self.status,
                "Reason": "recorded",
                "PhysicalResourceId": site_id,
                "StackId": event["StackId"],
                "RequestId": event["RequestId"],
                "LogicalResourceId": event["LogicalResourceId"],
                "Data": {"SiteId": site_id},
            }
        ).encode()
        request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT")
        urllib.request.urlopen(request, timeout=5).read()


def test_a_site_imports_the_hubs_exports_and_registers_before_its_alarm(sandbox: LocalSandbox) -> None:
    tokens = Recorder()
    site = sandbox.add_site("shop", sandbox.site_parameters("shop.detour.test", 8081), tokens)
    exports = sandbox.stack.exports()

    ((token, create),) = tokens.requests
    assert token == exports["detour-SiteServiceToken"] == create["ServiceToken"]
    assert (create["RequestType"], create["ResourceType"], create["LogicalResourceId"]) == (
        "Create",
        "Custom::DetourSite",
        "Site",
    )
    props = create["ResourceProperties"]
    assert props["EndpointCheckId"] == props["FailoverCheckId"] == site.physical_id("HealthCheck")
    assert (props["Signals"], props["SignalsToFailOver"]) == ([], "1")  # no signals: today's site
    assert "ErrorRate" not in props
    assert "FailoverCheck" not in site.health_checks
    assert props["AlarmName"] == "detour/detour-site-shop/primary-health"
    assert props["DistributionId"] == site.physical_id("Distribution")
    assert props["StackName"] == "detour-site-shop"
    assert site.order.index("Site") < site.order.index("HealthAlarm")  # DependsOn: Site

    alarm = boto3.client("cloudwatch").describe_alarms(AlarmNames=[site.physical_id("HealthAlarm")])["MetricAlarms"][0]
    assert alarm["AlarmActions"] == alarm["OKActions"] == [exports["detour-AlarmTopicArn"]]
    distribution = boto3.client("cloudfront").get_distribution(Id=site.physical_id("Distribution"))["Distribution"]
    (origin,) = distribution["DistributionConfig"]["Origins"]["Items"]
    assert origin["DomainName"] == exports["detour-PageBucketDomainName"]
    assert origin["OriginPath"] == f"/sites/{props['EndpointCheckId']}"

    deleted = delete_stack(site, tokens)
    assert tokens.requests[-1][1]["RequestType"] == "Delete"
    assert tokens.requests[-1][1]["PhysicalResourceId"] == props["EndpointCheckId"]
    assert [line.split(" ")[0] for line in deleted].index("HealthAlarm") < [
        line.split(" ")[0] for line in deleted
    ].index("Site")
    assert not boto3.client("cloudwatch").describe_alarms(AlarmNames=[alarm["AlarmName"]])["MetricAlarms"]
    assert not boto3.client("cloudfront").list_distributions()["DistributionList"].get("Items")
    records = boto3.client("route53").list_resource_record_sets(HostedZoneId=sandbox.zone_id)["ResourceRecordSets"]
    assert not [r for r in records if r["Name"].startswith("shop.")]
    checks = boto3.client("route53").list_health_checks()["HealthChecks"]
    assert props["EndpointCheckId"] not in [c["Id"] for c in checks]


def test_a_site_with_two_signal_alarms_and_the_error_rate_fails_over_on_a_calculated_check(
    sandbox: LocalSandbox,
) -> None:
    """Two of the account's alarms and Detour's own 5xx rate, 2 of the 4 checks to fail over: the calculated
    check is made through the API with its children and threshold (moto's CloudFormation would drop them), the
    records and the health alarm watch it, and what moto drops of the alarm-backed checks is on the stack."""
    cloudwatch = boto3.client("cloudwatch")
    metric = {"Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count", "Period": 60}
    for name in ("pay-5xx", "pay-latency"):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Statistic="Sum",
            EvaluationPeriods=1,
            Threshold=10,
            ComparisonOperator="GreaterThanThreshold",
            **metric,
        )
    parameters = sandbox.site_parameters("pay.detour.test", 8084) | {
        "PrimaryKind": "LoadBalancer",
        "PrimaryTarget": "pay-alb-1234567890.us-east-1.elb.amazonaws.com",
        "PrimaryHostedZoneId": "Z35SXDOTRQ7X7K",
        "SignalAlarm1": "pay-5xx",
        "SignalAlarm2": "pay-latency",
        "ErrorRateSignal": "On",
        "ErrorRateTargetGroup": "targetgroup/pay/0123456789abcdef",
        "ErrorRateLoadBalancer": "app/pay-alb/0123456789abcdef",
        "ErrorRateMinutes": "4",
        "SignalsToFailOver": "2",
        "SignalInsufficientData": "Unhealthy",
    }
    tokens = Recorder()
    site = sandbox.add_site("pay", parameters, tokens)
    route53 = boto3.client("route53")

    ids = {name: site.physical_id(name) for name in ("HealthCheck", "Signal1Check", "Signal2Check", "ErrorRateCheck")}
    failover = route53.get_health_check(HealthCheckId=site.physical_id("FailoverCheck"))["HealthCheck"]
    config = failover["HealthCheckConfig"]
    assert config["Type"] == "CALCULATED"
    assert config["ChildHealthChecks"] == list(ids.values())  # endpoint, the slots in order, the error rate
    assert config["HealthThreshold"] == 3  # 4 children - 2 to fail over + 1
    assert site.health_checks["FailoverCheck"].children == list(ids.values())
    assert site.health_checks["FailoverCheck"].health_threshold == 3
    # what moto's Route 53 does not keep, the stack does
    signals = {lid: site.health_checks[lid] for lid in ("Signal1Check", "Signal2Check", "ErrorRateCheck")}
    assert {lid: (c.type, c.alarm_name, c.insufficient_data_health_status) for lid, c in signals.items()} == {
        "Signal1Check": ("CLOUDWATCH_METRIC", "pay-5xx", "Unhealthy"),
        "Signal2Check": ("CLOUDWATCH_METRIC", "pay-latency", "Unhealthy"),
        "ErrorRateCheck": ("CLOUDWATCH_METRIC", "detour/detour-site-pay/error-rate", "Unhealthy"),
    }
    assert site.health_checks["HealthCheck"].health_check_id == ids["HealthCheck"]
    assert site.health_checks["HealthCheck"].type == "HTTP"

    records = route53.list_resource_record_sets(HostedZoneId=sandbox.zone_id)["ResourceRecordSets"]
    (primary,) = [r for r in records if r["Name"] == "pay.detour.test." and r.get("Failover") == "PRIMARY"]
    assert primary["HealthCheckId"] == failover["Id"]
    alarm = cloudwatch.describe_alarms(AlarmNames=["detour/detour-site-pay/primary-health"])["MetricAlarms"][0]
    assert alarm["Dimensions"] == [{"Name": "HealthCheckId", "Value": failover["Id"]}]
    error_rate = cloudwatch.describe_alarms(AlarmNames=["detour/detour-site-pay/error-rate"])["MetricAlarms"][0]
    assert (error_rate["Namespace"], error_rate["MetricName"], error_rate["Statistic"]) == (
        "Detour",
        "TargetErrorRate",
        "Maximum",
    )
    assert error_rate["Dimensions"] == [{"Name": "Site", "Value": "detour-site-pay"}]
    assert (error_rate["Period"], error_rate["EvaluationPeriods"], error_rate["DatapointsToAlarm"]) == (60, 4, 4)
    assert (error_rate["Threshold"], error_rate["ComparisonOperator"]) == (5.0, "GreaterThanThreshold")
    assert error_rate["AlarmActions"] == error_rate["OKActions"] == error_rate["InsufficientDataActions"] == []

    ((_, create),) = tokens.requests
    props = create["ResourceProperties"]
    assert (props["EndpointCheckId"], props["FailoverCheckId"]) == (ids["HealthCheck"], failover["Id"])
    assert props["Signals"] == [
        {"Name": "pay-5xx", "Kind": "alarm", "AlarmName": "pay-5xx", "HealthCheckId": ids["Signal1Check"]},
        {"Name": "pay-latency", "Kind": "alarm", "AlarmName": "pay-latency", "HealthCheckId": ids["Signal2Check"]},
        {
            "Name": "5xx rate",
            "Kind": "error-rate",
            "AlarmName": "detour/detour-site-pay/error-rate",
            "HealthCheckId": ids["ErrorRateCheck"],
        },
    ]
    assert props["ErrorRate"]["TargetGroup"] == "targetgroup/pay/0123456789abcdef"

    delete_stack(site, tokens)
    left = {c["Id"] for c in route53.list_health_checks()["HealthChecks"]}
    assert not left & {failover["Id"], *ids.values()}
    assert not cloudwatch.describe_alarms(AlarmNames=["detour/detour-site-pay/error-rate"])["MetricAlarms"]


def test_a_custom_resource_that_fails_fails_the_deploy(sandbox: LocalSandbox) -> None:
    with pytest.raises(CustomResourceFailed, match=r"Site \(Custom::DetourSite\) answered FAILED: recorded"):
        sandbox.add_site("broken", sandbox.site_parameters("broken.detour.test", 8082), Recorder("FAILED"))


def test_a_site_of_a_hub_that_is_not_there_is_refused(sandbox: LocalSandbox) -> None:
    parameters = sandbox.site_parameters("nohub.detour.test", 8083) | {"HubStackName": "elsewhere"}
    with pytest.raises(LookupError, match="elsewhere-"):
        sandbox.add_site("nohub", parameters, Recorder())


def test_the_hub_waits_for_its_functions_before_its_custom_resource(sandbox: LocalSandbox) -> None:
    hub: EmulatedStack = sandbox.stack
    assert hub.pending == ["PublishedPages"]  # created by create_pending once the functions are served
    assert set(hub.exports()) == {
        f"detour-{name}"
        for name in (
            "AlarmTopicArn",
            "SiteServiceToken",
            "PageRequestFunctionArn",
            "PageResponseFunctionArn",
            "PageHeadersPolicyId",
            "PageBucketDomainName",
        )
    }
