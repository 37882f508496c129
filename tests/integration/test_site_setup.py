"""functions/page_setup, the custom resource: Create and Update publish the page, Delete empties the
versioned bucket, and CloudFormation always gets an answer (moto S3 and a loopback ResponseURL)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from detour.page import publisher as page_publisher
from detour_cli.local.cfn_endpoint import ResponseCatcher, cfn_response_endpoint
from detour_cli.local.lambda_runtime import LambdaContext
from tests.support.aws import store_for
from tests.support.events import SITE_ID
from tests.support.functions import load_function
from tests.support.html import parse_html
from tests.support.page import transition
from tests.support.page_aws import (
    get_object,
    invalidated_paths,
    object_versions,
)

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/detour/5b7d4f40-c8a9-11ef-9d7a-0affe4c4d3c5"


@pytest.fixture
def page_setup(function_env: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_function("page_setup", monkeypatch)


@pytest.fixture
def cloudformation() -> Iterator[ResponseCatcher]:
    with cfn_response_endpoint() as endpoint:
        yield endpoint


def request(kind: str, endpoint: ResponseCatcher, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:detour-PageSetupFunction-TEST",
        "ResponseURL": endpoint.url,
        "StackId": STACK,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "PublishedPage",
        "ResourceType": "Custom::MaintenancePage",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", **properties},
        **extra,
    }


def properties(bucket: str, distribution: str, **overrides: str) -> dict[str, str]:
    return {
        "BucketName": bucket,
        "DistributionId": distribution,
        "SiteId": SITE_ID,
        "SiteName": "www.example.com",
        "ContactUrl": "",
        "DefaultMessage": "We are working on it.",
        "PageTemplateVersion": "arn:aws:lambda:us-east-1:123456789012:layer:CommonLayer:7",
    } | overrides


def test_create_publishes_the_first_page_before_any_outage(
    page_setup: ModuleType, page_bucket: str, distribution: str, cloudformation: ResponseCatcher
) -> None:
    event = request("Create", cloudformation, properties(page_bucket, distribution))
    assert page_setup.lambda_handler(event, LambdaContext()) is None

    response = cloudformation.only
    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", page_bucket)
    assert (response["StackId"], response["RequestId"], response["LogicalResourceId"]) == (
        STACK,
        event["RequestId"],
        "PublishedPage",
    )
    assert response["Data"] == {"State": "unavailable", "Published": "true"}
    assert response["content_type"] == ""  # what the presigned URL was signed for
    assert response["path"] == "/cfn-response?X-Amz-Signature=abc"
    status = json.loads(get_object(page_bucket, "status.json")["Text"])
    assert (status["state"], status["started_at"]) == ("unavailable", None)
    page = parse_html(get_object(page_bucket, "index.html")["Text"])
    assert "details follow shortly" in page.by_id("since").text
    assert invalidated_paths(distribution) == [["/index.html", "/status.json"]]


def test_update_republishes_with_the_new_settings_and_the_recorded_history(
    page_setup: ModuleType, page_bucket: str, distribution: str, cloudformation: ResponseCatcher, function_env: Any
) -> None:
    store_for(function_env).record(transition("ALARM", 0))
    store_for(function_env).record(transition("OK", 7))
    event = request(
        "Update",
        cloudformation,
        properties(page_bucket, distribution, SiteName="Example Shop", ContactUrl="mailto:help@example.com"),
        PhysicalResourceId=page_bucket,
        OldResourceProperties=properties(page_bucket, distribution),
    )
    page_setup.lambda_handler(event, LambdaContext())

    assert cloudformation.only["Status"] == "SUCCESS"
    page = parse_html(get_object(page_bucket, "index.html")["Text"])
    # the recovery recorded is days old by the clock: old news, so the page is the neutral one
    assert page.find_all("title")[0].text == "Example Shop: temporarily unavailable"
    assert page.by_id("contact").attrs["href"] == "mailto:help@example.com"
    (body,) = page.find_all("tbody")
    assert [td.text for td in body.find_all("td")] == ["2026-11-21 02:14 UTC", "7 min"]


def test_delete_removes_every_version_and_delete_marker_so_the_bucket_can_go(
    page_setup: ModuleType,
    page_bucket: str,
    distribution: str,
    cloudformation: ResponseCatcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(page_publisher, "DELETE_BATCH", 3)  # several batches without thousands of objects
    s3 = boto3.client("s3")
    for number in range(4):
        s3.put_object(Bucket=page_bucket, Key="index.html", Body=f"version {number}".encode())
    s3.put_object(Bucket=page_bucket, Key="status.json", Body=b"{}")
    s3.delete_object(Bucket=page_bucket, Key="status.json")  # leaves a delete marker
    assert len(object_versions(page_bucket)) == 6

    event = request("Delete", cloudformation, properties(page_bucket, distribution), PhysicalResourceId=page_bucket)
    page_setup.lambda_handler(event, LambdaContext())

    assert (cloudformation.only["Status"], cloudformation.only["Data"]) == ("SUCCESS", {"Removed": "6"})
    assert object_versions(page_bucket) == []
    s3.delete_bucket(Bucket=page_bucket)  # what CloudFormation does next: fails on a non-empty bucket


def test_delete_of_a_bucket_already_gone_succeeds(
    page_setup: ModuleType, cloudformation: ResponseCatcher, distribution: str, page_bucket: str
) -> None:
    boto3.client("s3").delete_bucket(Bucket=page_bucket)
    page_setup.lambda_handler(request("Delete", cloudformation, properties(page_bucket, distribution)), LambdaContext())
    assert cloudformation.only["Status"] == "SUCCESS"


def test_a_failure_is_reported_to_cloudformation_with_its_reason_never_raised(
    page_setup: ModuleType, cloudformation: ResponseCatcher, distribution: str
) -> None:
    event = request("Create", cloudformation, properties("detour-page-missing", distribution))
    page_setup.lambda_handler(event, LambdaContext())  # no exception: CloudFormation must hear back
    response = cloudformation.only
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(
        "PagePublishError: S3 bucket detour-page-missing: uploading index.html failed: NoSuchBucket"
    )
    assert response["PhysicalResourceId"] == "detour-page-missing"


def test_missing_properties_fail_the_create_and_its_rollback_delete_succeeds(
    page_setup: ModuleType, cloudformation: ResponseCatcher
) -> None:
    page_setup.lambda_handler(request("Create", cloudformation, {"SiteId": SITE_ID}), LambdaContext())
    failed = cloudformation.responses[0]
    assert failed["Status"] == "FAILED"
    assert failed["Reason"] == "InvalidRequest: custom resource property BucketName is missing"

    rollback = request("Delete", cloudformation, {"SiteId": SITE_ID}, PhysicalResourceId=failed["PhysicalResourceId"])
    page_setup.lambda_handler(rollback, LambdaContext())
    assert cloudformation.responses[1]["Status"] == "SUCCESS"


def test_an_unknown_request_type_is_refused_by_name(page_setup: ModuleType, cloudformation: ResponseCatcher) -> None:
    page_setup.lambda_handler(request("Upgrade", cloudformation, {}), LambdaContext())
    assert cloudformation.only["Status"] == "FAILED"
    assert "RequestType 'Upgrade' is not Create, Update or Delete" in cloudformation.only["Reason"]
