"""The templates for the tests: the hub (template.yaml: its source and the SAM-transformed template)
and a site (sites/site.yaml, plain CloudFormation: its source is what CloudFormation reads)."""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

from detour_cli.template import Resolver, load, parameter_defaults, transform

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SITE_TEMPLATE = ROOT / "sites" / "site.yaml"
HUB_STACK = "detour"
# The hub's exports as a site imports them (Fn::ImportValue "<hub>-<name>"), with stand-in values.
HUB_EXPORTS = {
    f"{HUB_STACK}-AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:detour-AlarmTopic-0A1B2C3D",
    f"{HUB_STACK}-SiteServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:detour-SiteSetupFunction-0A1B2C3D",
    f"{HUB_STACK}-PageRequestFunctionArn": "arn:aws:cloudfront::123456789012:function/detour-page-request",
    f"{HUB_STACK}-PageResponseFunctionArn": "arn:aws:cloudfront::123456789012:function/detour-page-response",
    f"{HUB_STACK}-PageHeadersPolicyId": "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
    f"{HUB_STACK}-PageBucketDomainName": "detour-pagebucket-0a1b2c3d.s3.us-east-1.amazonaws.com",
}


# ---------------------------------------------------------------- the hub


@functools.cache
def _source() -> dict[str, Any]:
    return load(TEMPLATE)


def source() -> dict[str, Any]:
    """template.yaml, the hub, as written."""
    return copy.deepcopy(_source())


@functools.cache
def _transformed() -> dict[str, Any]:
    return transform(_source())


def transformed() -> dict[str, Any]:
    """template.yaml after the SAM transform."""
    return copy.deepcopy(_transformed())


def defaults() -> dict[str, str]:
    """The hub's parameter defaults (every hub parameter has one)."""
    return parameter_defaults(_source())


def hub_parameters(**overrides: str) -> dict[str, str]:
    return defaults() | overrides


# ---------------------------------------------------------------- a site


@functools.cache
def _site_source() -> dict[str, Any]:
    return load(SITE_TEMPLATE)  # no transform: CloudFormation reads it as it is


def site_source() -> dict[str, Any]:
    """sites/site.yaml as written (and as deployed: it has no transform)."""
    return copy.deepcopy(_site_source())


def site_defaults() -> dict[str, str]:
    return parameter_defaults(_site_source())


def site_parameters(**overrides: str) -> dict[str, str]:
    """sites/site.yaml's defaults plus the required parameters, for an ALB primary unless overridden."""
    values = site_defaults() | {
        "DomainName": "www.example.com",
        "HostedZoneId": "Z0123456789ABCDEFGHIJ",
        "PrimaryTarget": "my-alb-1234567890.us-east-1.elb.amazonaws.com",
        "PrimaryHostedZoneId": "Z35SXDOTRQ7X7K",
        "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
    }
    return values | overrides


def Evaluator(
    template: dict[str, Any],
    parameters: dict[str, str],
    region: str = "us-east-1",
    *,
    stack_name: str = HUB_STACK,
    imports: dict[str, str] | None = None,
) -> Resolver:
    """The template's decisions for these parameters (Refs to resources stay as they are)."""
    return Resolver(template, parameters, pseudo={"AWS::Region": region, "AWS::StackName": stack_name}, imports=imports)


def arn_like(pattern: str, arn: str) -> bool:
    """IAM's ArnLike: each of the six colon-separated parts matched on its own, `*` any run of
    characters (a '/' included), `?` one character."""
    parts, wanted = arn.split(":", 5), pattern.split(":", 5)
    if len(parts) != 6 or len(wanted) != 6:
        return False
    return all(
        re.fullmatch("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in w), p) is not None
        for w, p in zip(wanted, parts, strict=True)
    )


def import_names(node: Any) -> list[Any]:
    """Every Fn::ImportValue argument in a piece of template, as written."""
    if isinstance(node, list):
        return [name for item in node for name in import_names(item)]
    if isinstance(node, dict):
        if set(node) == {"Fn::ImportValue"}:
            return [node["Fn::ImportValue"]]
        return [name for value in node.values() for name in import_names(value)]
    return []
