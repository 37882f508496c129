"""Answering CloudFormation: the body it expects, and failures that say what went wrong."""

from __future__ import annotations

import pytest

from detour.runtime import cfn_response
from detour_cli.local.cfn_endpoint import cfn_response_endpoint
from detour_cli.local.fake_slack import free_port

EVENT = {
    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/detour/1",
    "RequestId": "d6f6a2c6-1111-4b6c-8c7e-4b0f1e2d3c4b",
    "LogicalResourceId": "PublishedPage",
}


def test_the_response_carries_the_request_ids_and_a_bounded_reason() -> None:
    with cfn_response_endpoint() as endpoint:
        cfn_response.send(
            {**EVENT, "ResponseURL": endpoint.url}, status="FAILED", physical_id="bucket", reason="x" * 5000
        )
    response = endpoint.only
    assert (response["Status"], response["PhysicalResourceId"], response["Data"]) == ("FAILED", "bucket", {})
    assert {k: response[k] for k in EVENT} == EVENT
    assert len(response["Reason"]) == cfn_response.MAX_REASON_CHARS


def test_an_unreachable_response_url_raises_so_lambda_retries() -> None:
    event = {**EVENT, "ResponseURL": f"http://127.0.0.1:{free_port()}/gone"}
    with pytest.raises(cfn_response.CfnResponseError, match="could not deliver the SUCCESS response"):
        cfn_response.send(event, status="SUCCESS", physical_id="bucket")


def test_only_http_urls_are_opened() -> None:
    with pytest.raises(cfn_response.CfnResponseError, match="is not an HTTP"):
        cfn_response.send({**EVENT, "ResponseURL": "file:///etc/passwd"}, status="SUCCESS", physical_id="b")
