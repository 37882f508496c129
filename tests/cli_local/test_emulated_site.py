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
    """Plays the hub's site_setup: answers every request SUCCESS (physical id: the SiteId), and keeps them."""

    def __init__(self, status: str = "SUCCESS") -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.status = status

    def __call__(self, token: str, event: dict[str, Any]) -> None:
        self.requests.append((token, event))
        body = json.dumps(
            {
                "Status": self.status,
                "Reason": "recorded",
                "PhysicalResourceId": event["ResourceProperties"]["SiteId"],
                "StackId": event["StackId"],
                "RequestId": event["RequestId"],
                "LogicalResourceId": event["LogicalResourceId"],
                "Data": {"SiteId": event["ResourceProperties"]["SiteId"]},
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
    assert props["SiteId"] == site.physical_id("HealthCheck")
    assert props["AlarmName"] == "detour/detour-site-shop/primary-health"
    assert props["DistributionId"] == site.physical_id("Distribution")
    assert props["StackName"] == "detour-site-shop"
    assert site.order.index("Site") < site.order.index("HealthAlarm")  # DependsOn: Site

    alarm = boto3.client("cloudwatch").describe_alarms(AlarmNames=[site.physical_id("HealthAlarm")])["MetricAlarms"][0]
    assert alarm["AlarmActions"] == alarm["OKActions"] == [exports["detour-AlarmTopicArn"]]
    distribution = boto3.client("cloudfront").get_distribution(Id=site.physical_id("Distribution"))["Distribution"]
    (origin,) = distribution["DistributionConfig"]["Origins"]["Items"]
    assert origin["DomainName"] == exports["detour-PageBucketDomainName"]
    assert origin["OriginPath"] == f"/sites/{props['SiteId']}"

    deleted = delete_stack(site, tokens)
    assert tokens.requests[-1][1]["RequestType"] == "Delete"
    assert tokens.requests[-1][1]["PhysicalResourceId"] == props["SiteId"]
    assert [line.split(" ")[0] for line in deleted].index("HealthAlarm") < [
        line.split(" ")[0] for line in deleted
    ].index("Site")
    assert not boto3.client("cloudwatch").describe_alarms(AlarmNames=[alarm["AlarmName"]])["MetricAlarms"]
    assert not boto3.client("cloudfront").list_distributions()["DistributionList"].get("Items")
    records = boto3.client("route53").list_resource_record_sets(HostedZoneId=sandbox.zone_id)["ResourceRecordSets"]
    assert not [r for r in records if r["Name"].startswith("shop.")]
    checks = boto3.client("route53").list_health_checks()["HealthChecks"]
    assert props["SiteId"] not in [c["Id"] for c in checks]


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
