"""Read template.yaml the way CloudFormation would, offline.

`transformed()` runs the real SAM transform (samtranslator) with local code paths replaced by S3
placeholders; `resolve()` evaluates Conditions, Fn::If and Ref for a set of parameter values, so a
test can ask "with an IPv4 primary, what does PrimaryRecordA look like?".
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any
from unittest import mock

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
NO_VALUE = object()
PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "detour",
    "AWS::Partition": "aws",
}


@functools.cache
def _source() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


def source() -> dict[str, Any]:
    return copy.deepcopy(_source())


class _NoManagedPolicies:
    """The transform asks IAM for managed-policy ARNs only when a function names one; ours don't."""

    def load(self) -> dict[str, str]:
        return {}


@functools.cache
def _transformed() -> dict[str, Any]:
    template = source()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://detour-artifacts/{props[key].strip('/')}.zip"
    # The transform reads the partition from boto3's region; the stack only deploys in us-east-1.
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": "us-east-1"}):
        return transform(template, {}, _NoManagedPolicies())


def transformed() -> dict[str, Any]:
    return copy.deepcopy(_transformed())


def defaults() -> dict[str, str]:
    return {name: str(p.get("Default", "")) for name, p in _source()["Parameters"].items()}


def site_parameters(**overrides: str) -> dict[str, str]:
    """Defaults plus the required parameters, for an ALB primary unless overridden."""
    values = defaults() | {
        "DomainName": "www.example.com",
        "HostedZoneId": "Z0123456789ABCDEFGHIJ",
        "PrimaryTarget": "my-alb-1234567890.us-east-1.elb.amazonaws.com",
        "PrimaryHostedZoneId": "Z35SXDOTRQ7X7K",
        "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
    }
    return values | overrides


class Evaluator:
    """Just enough of CloudFormation's intrinsic functions to read the template's decisions."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str], region: str = "us-east-1") -> None:
        self.template = template
        self.refs = {**PSEUDO, "AWS::Region": region, **parameters}

    def condition(self, name: str) -> bool:
        return bool(self.value(self.template["Conditions"][name]))

    def value(self, node: Any) -> Any:  # noqa: PLR0911 - one branch per intrinsic
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return NO_VALUE if arg == "AWS::NoValue" else self.refs.get(arg, {"Ref": arg})
            if key == "Fn::If":
                name, yes, no = arg
                return self.value(yes if self.condition(name) else no)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                left, right = (self.value(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::And":
                return all(self.value(a) for a in arg)
            if key == "Fn::Or":
                return any(self.value(a) for a in arg)
            if key == "Fn::Split":
                return str(self.value(arg[1])).split(arg[0])
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}

    def resource(self, logical_id: str) -> dict[str, Any] | None:
        """The resource's properties as deployed, or None if its Condition leaves it out."""
        resource = self.template["Resources"][logical_id]
        if "Condition" in resource and not self.condition(resource["Condition"]):
            return None
        return self.value(resource.get("Properties", {}))

    def failed_rules(self) -> list[str]:
        """The AssertDescription of every rule assertion these parameters break."""
        failures = []
        for rule in self.template.get("Rules", {}).values():
            if "RuleCondition" in rule and not self.value(rule["RuleCondition"]):
                continue
            failures += [a["AssertDescription"] for a in rule["Assertions"] if not self.value(a["Assert"])]
        return failures
