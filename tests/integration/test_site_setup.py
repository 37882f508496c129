"""functions/site_setup, the custom resources: a site stack's Custom::DetourSite registers the site
and publishes its page, and on Delete removes both (its history stays); the hub's
Custom::DetourPages republishes every site's page and on Delete empties the bucket. CloudFormation
always gets an answer (moto S3 and DynamoDB, a loopback ResponseURL)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from types import ModuleType
from typing import Any

import boto3
import pytest

from detour.incidents.alarm_message import parse_sns_event
from detour.incidents.sites import ErrorRate, SignalKind, SiteRegistry
from detour.page import publisher as page_publisher
from detour_cli.local.cfn_endpoint import ResponseCatcher, cfn_response_endpoint
from detour_cli.local.lambda_runtime import LambdaContext
from tests.support.aws import store_for
from tests.support.events import SITE_ID, transition_event
from tests.support.functions import load_function
from tests.support.html import parse_html
from tests.support.page import transition
from tests.support.page_aws import create_distribution, get_object, invalidated_paths, object_versions
from tests.support.sites import SITE

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/detour-site-www/5b7d4f40-c8a9-11ef-9d7a-0affe4c4d3c5"
PREFIX = f"sites/{SITE_ID}/"
DOCS_ID = "9f8e7d6c-2222-4e5f-9a7b-0123456789ab"
DOCS = replace(SITE, site_id=DOCS_ID, domain="docs.example.com", alarm_name="detour/detour-site-docs/primary-health")


@pytest.fixture
def site_setup(function_env: Any, page_bucket: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("PAGE_BUCKET", page_bucket)
    return load_function("site_setup", monkeypatch)


@pytest.fixture
def cloudformation() -> Iterator[ResponseCatcher]:
    with cfn_response_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def registry(function_env: Any) -> SiteRegistry:
    return SiteRegistry(function_env.name, boto3.client("dynamodb"))


def request(
    kind: str,
    endpoint: ResponseCatcher,
    properties: dict[str, Any],
    resource_type: str = "Custom::DetourSite",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:detour-SiteSetupFunction-TEST",
        "ResponseURL": endpoint.url,
        "StackId": STACK,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "Site" if resource_type == "Custom::DetourSite" else "PublishedPages",
        "ResourceType": resource_type,
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", **properties},
        **extra,
    }


def site_properties(distribution: str, **overrides: str) -> dict[str, str]:
    """What sites/site.yaml gives its Custom::DetourSite."""
    return {
        "EndpointCheckId": SITE_ID,
        "Domain": "www.example.com",
        "SiteName": "www.example.com",
        "ContactUrl": "",
        "DefaultMessage": "We are working on it.",
        "RetryAfterSeconds": "120",
        "SlackChannel": "",
        "SlackMention": "here",
        "DistributionId": distribution,
        "DistributionDomainName": "d111111abcdef8.cloudfront.net",
        "AlarmName": "detour/detour-site-www/primary-health",
        "StackName": "detour-site-www",
        "SiteTemplateVersion": "1",
    } | overrides


def test_create_registers_the_site_and_publishes_its_first_page(
    site_setup: ModuleType, page_bucket: str, distribution: str, cloudformation: ResponseCatcher, registry: SiteRegistry
) -> None:
    registry.remove(registry.require(SITE_ID))
    event = request("Create", cloudformation, site_properties(distribution))
    assert site_setup.lambda_handler(event, LambdaContext()) is None

    response = cloudformation.only
    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", SITE_ID)
    assert (response["StackId"], response["RequestId"], response["LogicalResourceId"]) == (
        STACK,
        event["RequestId"],
        "Site",
    )
    assert response["Data"] == {"SiteId": SITE_ID, "State": "unavailable", "Published": "true"}
    registered = registry.require(SITE_ID)
    assert registered == replace(
        SITE,
        site_name="www.example.com",
        default_message="We are working on it.",
        contact_url="",
        slack_mention="here",
        distribution_id=distribution,
        registered_at=registered.registered_at,
        endpoint_check_id=SITE_ID,
        failover_check_id=SITE_ID,
    )
    status = json.loads(get_object(page_bucket, PREFIX + "status.json")["Text"])
    assert (status["state"], status["started_at"]) == ("unavailable", None)
    page = get_object(page_bucket, PREFIX + "index.html")
    assert "details follow shortly" in parse_html(page["Text"]).by_id("since").text
    assert page["Metadata"]["retry-after"] == "120"  # the viewer-response function's Retry-After
    assert all(key.startswith(PREFIX) for key in object_versions(page_bucket))
    assert invalidated_paths(distribution) == [["/index.html", "/status.json"]]


def test_update_changes_the_registration_and_republishes_with_the_recorded_history(
    site_setup: ModuleType, page_bucket: str, distribution: str, cloudformation: ResponseCatcher, function_env: Any
) -> None:
    store_for(function_env).record(transition("ALARM", 0))
    store_for(function_env).record(transition("OK", 7))
    event = request(
        "Update",
        cloudformation,
        site_properties(
            distribution, SiteName="Example Shop", ContactUrl="mailto:help@example.com", RetryAfterSeconds="600"
        ),
        PhysicalResourceId=SITE_ID,
        OldResourceProperties=site_properties(distribution),
    )
    site_setup.lambda_handler(event, LambdaContext())

    assert cloudformation.only["Status"] == "SUCCESS"
    registered = SiteRegistry(function_env.name, boto3.client("dynamodb")).require(SITE_ID)
    assert (registered.site_name, registered.retry_after_s) == ("Example Shop", 600)
    page = get_object(page_bucket, PREFIX + "index.html")
    assert page["Metadata"]["retry-after"] == "600"
    html = parse_html(page["Text"])
    # the recovery recorded is days old by the clock: old news, so the page is the neutral one
    assert html.find_all("title")[0].text == "Example Shop: temporarily unavailable"
    assert html.by_id("contact").attrs["href"] == "mailto:help@example.com"
    (body,) = html.find_all("tbody")
    assert [td.text for td in body.find_all("td")] == ["2026-11-21 02:14 UTC", "7 min"]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"ContactUrl": "javascript:alert(1)"}, "must start with https:// or mailto:"),
        ({"RetryAfterSeconds": "0"}, "RetryAfterSeconds must be a whole number of seconds from 1 to 86400"),
        ({"AlarmName": ""}, "custom resource property AlarmName is missing"),
    ],
)
def test_unusable_settings_fail_the_deploy_and_change_nothing(
    *,
    site_setup: ModuleType,
    page_bucket: str,
    distribution: str,
    cloudformation: ResponseCatcher,
    registry: SiteRegistry,
    overrides: dict[str, str],
    reason: str,
) -> None:
    before = registry.require(SITE_ID)
    event = request("Update", cloudformation, site_properties(distribution, **overrides), PhysicalResourceId=SITE_ID)
    site_setup.lambda_handler(event, LambdaContext())
    assert cloudformation.only["Status"] == "FAILED"
    assert reason in cloudformation.only["Reason"]
    assert registry.require(SITE_ID) == before
    assert object_versions(page_bucket) == []


def test_delete_removes_the_sites_page_and_registration_and_keeps_its_history_and_other_sites(
    *,
    site_setup: ModuleType,
    page_bucket: str,
    distribution: str,
    cloudformation: ResponseCatcher,
    registry: SiteRegistry,
    function_env: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(page_publisher, "DELETE_BATCH", 3)  # several batches without thousands of objects
    store_for(function_env).record(transition("ALARM", 0))
    docs = replace(DOCS, stack_name="detour-site-docs")
    registry.put(docs)
    s3 = boto3.client("s3")
    for number in range(4):
        s3.put_object(Bucket=page_bucket, Key=PREFIX + "index.html", Body=f"version {number}".encode())
    s3.put_object(Bucket=page_bucket, Key=PREFIX + "status.json", Body=b"{}")
    s3.delete_object(Bucket=page_bucket, Key=PREFIX + "status.json")  # leaves a delete marker
    s3.put_object(Bucket=page_bucket, Key=docs.page_prefix + "index.html", Body=b"docs")

    event = request("Delete", cloudformation, site_properties(distribution), PhysicalResourceId=SITE_ID)
    site_setup.lambda_handler(event, LambdaContext())

    assert (cloudformation.only["Status"], cloudformation.only["Data"]) == (
        "SUCCESS",
        {"SiteId": SITE_ID, "Removed": "6"},
    )
    assert object_versions(page_bucket) == [docs.page_prefix + "index.html"]
    assert registry.get(SITE_ID) is None
    assert registry.require(DOCS_ID) == docs
    assert len(store_for(function_env).transitions(SITE_ID)) == 1  # the history outlives the site


def test_a_create_that_failed_on_its_properties_rolls_back_without_touching_anything(
    site_setup: ModuleType, cloudformation: ResponseCatcher, registry: SiteRegistry
) -> None:
    site_setup.lambda_handler(request("Create", cloudformation, {"Domain": "www.example.com"}), LambdaContext())
    failed = cloudformation.responses[0]
    assert failed["Status"] == "FAILED"
    assert failed["Reason"] == "InvalidRequest: custom resource property RetryAfterSeconds is missing"

    rollback = request("Delete", cloudformation, {}, PhysicalResourceId=failed["PhysicalResourceId"])
    site_setup.lambda_handler(rollback, LambdaContext())
    assert (cloudformation.responses[1]["Status"], cloudformation.responses[1]["Data"]) == ("SUCCESS", {"Removed": "0"})
    assert registry.get(SITE_ID) is not None


def test_a_new_layer_republishes_every_registered_sites_page(
    site_setup: ModuleType, page_bucket: str, distribution: str, cloudformation: ResponseCatcher, registry: SiteRegistry
) -> None:
    registry.put(replace(SITE, distribution_id=distribution))
    docs_distribution = create_distribution(page_bucket)
    docs = replace(DOCS, distribution_id=docs_distribution)
    registry.put(docs)
    version = {"PageTemplateVersion": "arn:aws:lambda:us-east-1:123456789012:layer:CommonLayer:8"}
    event = request("Update", cloudformation, version, "Custom::DetourPages", PhysicalResourceId=page_bucket)
    site_setup.lambda_handler(event, LambdaContext())

    assert (cloudformation.only["Status"], cloudformation.only["Data"]) == ("SUCCESS", {"Sites": "2", "Published": "2"})
    assert sorted(object_versions(page_bucket)) == sorted(
        [
            PREFIX + "index.html",
            PREFIX + "status.json",
            docs.page_prefix + "index.html",
            docs.page_prefix + "status.json",
        ]
    )
    assert len(invalidated_paths(distribution)) == len(invalidated_paths(docs_distribution)) == 1


def test_deleting_the_hub_empties_the_bucket_and_a_bucket_already_gone_is_fine(
    site_setup: ModuleType, page_bucket: str, cloudformation: ResponseCatcher
) -> None:
    s3 = boto3.client("s3")
    s3.put_object(Bucket=page_bucket, Key=PREFIX + "index.html", Body=b"page")
    event = request("Delete", cloudformation, {}, "Custom::DetourPages", PhysicalResourceId=page_bucket)
    site_setup.lambda_handler(event, LambdaContext())
    assert (cloudformation.responses[0]["Status"], cloudformation.responses[0]["Data"]) == ("SUCCESS", {"Removed": "1"})
    s3.delete_bucket(Bucket=page_bucket)  # what CloudFormation does next: fails on a non-empty bucket

    site_setup.lambda_handler(event, LambdaContext())
    assert cloudformation.responses[1]["Status"] == "SUCCESS"


def test_a_failure_is_reported_to_cloudformation_with_its_reason_never_raised(
    site_setup: ModuleType, cloudformation: ResponseCatcher, distribution: str, page_bucket: str
) -> None:
    boto3.client("s3").delete_bucket(Bucket=page_bucket)
    event = request("Create", cloudformation, site_properties(distribution))
    site_setup.lambda_handler(event, LambdaContext())  # no exception: CloudFormation must hear back
    response = cloudformation.only
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(
        f"PagePublishError: S3 bucket {page_bucket}: uploading {PREFIX}index.html failed: NoSuchBucket"
    )
    # a failed Create registered nothing: its physical id names no site, so its rollback removes nothing
    assert response["PhysicalResourceId"] == f"unregistered-{SITE_ID}"


@pytest.mark.parametrize(
    ("kind", "resource_type", "reason"),
    [
        ("Upgrade", "Custom::DetourSite", "RequestType 'Upgrade' is not Create, Update or Delete"),
        ("Create", "Custom::MaintenancePage", "resource type 'Custom::MaintenancePage' is neither"),
    ],
)
def test_an_unknown_request_is_refused_by_name(
    site_setup: ModuleType, cloudformation: ResponseCatcher, kind: str, resource_type: str, reason: str
) -> None:
    site_setup.lambda_handler(request(kind, cloudformation, {}, resource_type), LambdaContext())
    assert cloudformation.only["Status"] == "FAILED"
    assert reason in cloudformation.only["Reason"]


NEW_CHECK = "7c6b5a49-3333-4e5f-9a7b-0123456789ab"
NEW_SITE = replace(
    SITE, site_id=NEW_CHECK, stack_name="detour-site-new", alarm_name="detour/detour-site-new/primary-health"
)


@pytest.mark.parametrize("site_id", [SITE_ID, NEW_CHECK], ids=["same health check", "replaced health check"])
def test_an_update_whose_page_fails_leaves_the_registration_as_it_was(
    *,
    site_setup: ModuleType,
    distribution: str,
    cloudformation: ResponseCatcher,
    registry: SiteRegistry,
    monkeypatch: pytest.MonkeyPatch,
    site_id: str,
) -> None:
    """CloudFormation rolls a failed Update back with an Update carrying the old properties, and
    never deletes what the failed one wrote: a replaced health check must not stay registered."""
    before = registry.require(SITE_ID)

    def throttled(*_: Any, **__: Any) -> Any:
        raise page_publisher.PagePublishError("S3 bucket detour-page: uploading index.html failed: SlowDown")

    monkeypatch.setattr(page_publisher.PagePublisher, "publish", throttled)
    properties = site_properties(distribution, EndpointCheckId=site_id, SiteName="Renamed")
    site_setup.lambda_handler(
        request("Update", cloudformation, properties, PhysicalResourceId=SITE_ID), LambdaContext()
    )

    assert cloudformation.only["Status"] == "FAILED"
    assert registry.all() == [before]


def test_a_delete_whose_create_never_answered_removes_what_that_create_registered(
    site_setup: ModuleType, distribution: str, cloudformation: ResponseCatcher, registry: SiteRegistry
) -> None:
    """A Create that timed out gets a physical id CloudFormation made up; its rollback's Delete
    still finds the site it registered by the stack that registered it, and nothing else."""
    registry.put(NEW_SITE)
    properties = site_properties(
        distribution, EndpointCheckId=NEW_CHECK, StackName=NEW_SITE.stack_name, AlarmName=NEW_SITE.alarm_name
    )
    site_setup.lambda_handler(
        request("Delete", cloudformation, properties, PhysicalResourceId="detour-site-new-Site-1A2B3C"), LambdaContext()
    )
    assert cloudformation.only["Status"] == "SUCCESS"
    assert [site.site_id for site in registry.all()] == [SITE_ID]

    # the same Delete from another stack's resource removes nothing
    registry.put(NEW_SITE)
    other = site_properties(
        distribution, EndpointCheckId=NEW_CHECK, StackName="detour-site-other", AlarmName=NEW_SITE.alarm_name
    )
    site_setup.lambda_handler(request("Delete", cloudformation, other, PhysicalResourceId="x-Site-9Z"), LambdaContext())
    assert cloudformation.responses[1]["Data"] == {"Removed": "0"}
    assert registry.get(NEW_CHECK) is not None


def test_one_broken_site_does_not_roll_back_the_hubs_upgrade(
    site_setup: ModuleType, page_bucket: str, distribution: str, cloudformation: ResponseCatcher, registry: SiteRegistry
) -> None:
    registry.put(replace(SITE, distribution_id=distribution))
    registry.put(replace(DOCS, distribution_id="EDELETEDBYHAND"))
    version = {"PageTemplateVersion": "arn:aws:lambda:us-east-1:123456789012:layer:CommonLayer:9"}
    event = request("Update", cloudformation, version, "Custom::DetourPages", PhysicalResourceId=page_bucket)
    site_setup.lambda_handler(event, LambdaContext())

    answer = cloudformation.only
    assert answer["Status"] == "SUCCESS"
    assert (answer["Data"]["Sites"], answer["Data"]["Published"]) == ("2", "1")
    assert answer["Data"]["Failed"].startswith("1 of 2 pages failed: docs.example.com: PagePublishError: ")
    assert len(invalidated_paths(distribution)) == 1  # www's page went out all the same


# -- a site keeps its id for life (ADR 0002) ---------------------------------------------------------

FAILOVER_CHECK = "5e4d3c2b-4444-4e5f-9a7b-0123456789ab"
SIGNALS = [
    {"Name": "shop-p99-latency", "Kind": "alarm", "AlarmName": "shop-p99-latency", "HealthCheckId": "hc-latency"},
    {
        "Name": "5xx rate",
        "Kind": "error-rate",
        "AlarmName": "detour/detour-site-www/error-rate",
        "HealthCheckId": "hc-5xx",
    },
]
ERROR_RATE = {
    "TargetGroup": "targetgroup/shop/0123456789abcdef",
    "LoadBalancer": "app/shop/0123456789abcdef",
    "ThresholdPercent": "5",
    "Minutes": "3",
    "MinRequests": "20",
}


def test_signals_come_and_the_site_keeps_its_id_history_and_thread_while_its_page_moves(
    *,
    site_setup: ModuleType,
    page_bucket: str,
    distribution: str,
    cloudformation: ResponseCatcher,
    registry: SiteRegistry,
    function_env: Any,
) -> None:
    """The endpoint check is replaced (its protocol changed) and a calculated check now sits in
    front of it: the alarm watches a check whose id is not the site's. The site is the same site."""
    store = store_for(function_env)
    store.record(transition("ALARM", 0))  # an incident open across the deploy
    registry.put(replace(SITE, distribution_id=distribution))
    site_setup.lambda_handler(
        request("Update", cloudformation, site_properties(distribution), PhysicalResourceId=SITE_ID), LambdaContext()
    )
    old_page = object_versions(page_bucket)
    assert old_page
    assert all(key.startswith(PREFIX) for key in old_page)

    changed = site_properties(
        distribution,
        EndpointCheckId=NEW_CHECK,
        FailoverCheckId=FAILOVER_CHECK,
        Signals=SIGNALS,  # type: ignore[arg-type] # CloudFormation passes lists and maps as they are
        SignalsToFailOver="2",
        SignalInsufficientData="Unhealthy",
        ErrorRate=ERROR_RATE,  # type: ignore[arg-type]
    )
    event = request("Update", cloudformation, changed, PhysicalResourceId=SITE_ID)
    site_setup.lambda_handler(event, LambdaContext())

    response = cloudformation.responses[-1]
    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", SITE_ID)  # no replacement, no Delete
    assert response["Data"]["RemovedOldPage"] == str(len(old_page))
    site = registry.require(SITE_ID)
    assert (site.endpoint_check, site.failover_check, site.page_prefix) == (
        NEW_CHECK,
        FAILOVER_CHECK,
        f"sites/{NEW_CHECK}/",
    )
    assert [(s.name, s.kind, s.health_check_id) for s in site.signals] == [
        ("shop-p99-latency", SignalKind.ALARM, "hc-latency"),
        ("5xx rate", SignalKind.ERROR_RATE, "hc-5xx"),
    ]
    assert (site.signals_to_fail_over, site.signal_insufficient_data) == (2, "Unhealthy")
    assert site.error_rate == ErrorRate("targetgroup/shop/0123456789abcdef", "app/shop/0123456789abcdef", 5.0, 3, 20)
    assert registry.get(NEW_CHECK) is None  # one site, not two
    assert all(key.startswith(f"sites/{NEW_CHECK}/") for key in object_versions(page_bucket))
    status = json.loads(get_object(page_bucket, f"sites/{NEW_CHECK}/status.json")["Text"])
    assert status["started_at"] == "2026-11-21T02:14:27.123Z"  # the open incident, under the site's id

    # the recovery now comes from the alarm on the calculated check, and closes the same incident
    ok = parse_sns_event(transition_event("OK", "ALARM", transition("OK", 9).changed_at, site_id=FAILOVER_CHECK))
    found = registry.for_transition(ok)
    assert found.site_id == SITE_ID
    store.record(replace(ok, site_id=found.site_id))
    assert [w.duration_s for w in store.windows(SITE_ID)] == [540]


def test_a_site_registered_before_alarm_items_is_found_by_its_health_check_until_the_hub_writes_one(
    site_setup: ModuleType, page_bucket: str, distribution: str, cloudformation: ResponseCatcher, registry: SiteRegistry
) -> None:
    dynamodb = boto3.client("dynamodb")
    registry.remove(registry.require(SITE_ID))
    legacy = replace(SITE, distribution_id=distribution)  # what an older hub wrote: the site item alone
    dynamodb.put_item(TableName=registry.table_name, Item=legacy.to_item())
    event = parse_sns_event(transition_event("ALARM", "OK", transition("ALARM", 0).changed_at))
    assert registry.by_alarm(event.alarm_name) is None
    assert registry.for_transition(event).site_id == SITE_ID  # the alarm's dimension is the old site id

    upgrade = request("Update", cloudformation, {"PageTemplateVersion": "9"}, "Custom::DetourPages")
    site_setup.lambda_handler(upgrade, LambdaContext())
    assert cloudformation.only["Status"] == "SUCCESS"
    found = registry.by_alarm(event.alarm_name)
    assert found is not None
    assert found.site_id == SITE_ID

    # an old site stack's Delete (it sends SiteId) removes the site and its alarm item
    old_stack = {k: v for k, v in site_properties(distribution).items() if k != "EndpointCheckId"} | {"SiteId": SITE_ID}
    site_setup.lambda_handler(request("Delete", cloudformation, old_stack, PhysicalResourceId=SITE_ID), LambdaContext())
    assert cloudformation.responses[-1]["Data"]["SiteId"] == SITE_ID
    assert registry.get(SITE_ID) is None
    assert registry.by_alarm(event.alarm_name) is None
    assert (
        dynamodb.scan(
            TableName=registry.table_name,
            FilterExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "SITE_ALARMS"}},
        )["Items"]
        == []
    )


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            {"Signals": [{"Name": "x", "Kind": "alarm", "AlarmName": "x"}]},
            "custom resource property HealthCheckId is missing",
        ),
        (
            {"Signals": [{"Name": "x", "Kind": "sms", "AlarmName": "x", "HealthCheckId": "h"}]},
            "'sms' is not a valid SignalKind",
        ),
        ({"Signals": "shop-p99-latency"}, "Signals must be a list"),
        ({"ErrorRate": ERROR_RATE | {"ThresholdPercent": "0"}}, "ThresholdPercent must be above 0 and at most 100"),
        ({"ErrorRate": ERROR_RATE | {"Minutes": "three"}}, "Minutes must be a whole number from 1 to 60"),
        ({"SignalsToFailOver": "0"}, "SignalsToFailOver must be a whole number from 1 to 256"),
        ({"EndpointCheckId": ""}, "custom resource property EndpointCheckId is missing"),
    ],
)
def test_unusable_signal_settings_fail_the_deploy_and_change_nothing(
    *,
    site_setup: ModuleType,
    distribution: str,
    cloudformation: ResponseCatcher,
    registry: SiteRegistry,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    before = registry.all()
    properties = site_properties(distribution) | overrides
    site_setup.lambda_handler(
        request("Update", cloudformation, properties, PhysicalResourceId=SITE_ID), LambdaContext()
    )
    assert cloudformation.only["Status"] == "FAILED"
    assert reason in cloudformation.only["Reason"]
    assert registry.all() == before


def test_the_hubs_deploy_links_no_alarm_that_two_registered_items_claim(
    site_setup: ModuleType, distribution: str, cloudformation: ResponseCatcher, registry: SiteRegistry
) -> None:
    """A stale item of a stack re-created under the same name claims the same alarm: linking either
    could send the live site's alarms to the wrong one, so neither is linked, and the answer says so."""
    dynamodb = boto3.client("dynamodb")
    dynamodb.delete_item(TableName=registry.table_name, Key={"pk": {"S": "SITE_ALARMS"}, "sk": {"S": SITE.alarm_name}})
    stale = replace(SITE, site_id=NEW_CHECK, distribution_id=distribution)
    dynamodb.put_item(TableName=registry.table_name, Item=stale.to_item())  # as an older hub left it
    upgrade = request("Update", cloudformation, {"PageTemplateVersion": "9"}, "Custom::DetourPages")
    site_setup.lambda_handler(upgrade, LambdaContext())

    answer = cloudformation.only
    assert answer["Status"] == "SUCCESS"  # the upgrade goes on
    assert f"{SITE.alarm_name}: registered to " in answer["Data"]["Failed"]
    assert registry.by_alarm(SITE.alarm_name) is None
