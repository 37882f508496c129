"""Deploy template.yaml into the embedded AWS (moto's server), as far as an emulator allows.

The SAM template is transformed offline. CloudFormation (moto's) creates every resource it
supports whose references it can resolve; the rest is created through its own API with the
template's properties (the distribution, the secondary record that points at it, the alarms, the
secret, the policies). The Lambda functions are not deployed: moto cannot run them, so the
rehearsal runs their handlers in-process, the same code Lambda runs, with the environment the
template gives them. Every step is reported, and so is what is only emulated.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from detour_cli.template import Resolver, load, parameter_defaults, transform

# Resource types moto's CloudFormation creates faithfully enough for the rehearsal.
VIA_CLOUDFORMATION = {
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SNS::Topic",
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::Route53::HealthCheck",
    "AWS::Route53::RecordSet",
    "AWS::SQS::Queue",
    "AWS::Logs::LogGroup",
}


@dataclass
class EmulatedStack:
    name: str
    template: dict[str, Any]
    resolver: Resolver
    created: list[str] = field(default_factory=list)  # what exists in the emulator, and how
    emulated: list[str] = field(default_factory=list)  # what is played by something local instead

    def physical_id(self, logical_id: str) -> str:
        return str(self.resolver.refs[logical_id])

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """The environment Lambda would give this function (Globals already merged by the transform)."""
        props = self.resolver.resource(logical_id) or {}
        variables = props.get("Environment", {}).get("Variables", {})
        return {name: str(value) for name, value in variables.items()}

    def functions(self) -> dict[str, str]:
        """Logical id -> handler directory name, for every function in the template."""
        found = {}
        for logical_id, resource in self.template["Resources"].items():
            if resource["Type"] == "AWS::Lambda::Function":
                code = resource["Properties"]["Code"]
                found[logical_id] = Path(code["S3Key"]).stem if "S3Key" in code else logical_id
        return found


def deploy(template_path: Path, parameters: dict[str, str], stack_name: str = "detour") -> EmulatedStack:
    """Create the stack in the emulator boto3 points at (AWS_ENDPOINT_URL)."""
    source = load(template_path)
    template = transform(source)
    values = parameter_defaults(source) | parameters
    resolver = Resolver(template, values, pseudo={"AWS::StackName": stack_name}, strict=True)
    failures = resolver.failed_rules()
    if failures:
        raise ValueError("the template's rules refuse these parameters: " + " / ".join(failures))
    stack = EmulatedStack(stack_name, template, resolver)

    through_cfn = _cloudformation_part(template, resolver)
    _create_with_cloudformation(stack, through_cfn, values)
    _create_the_rest(stack, set(through_cfn))
    return stack


def _cloudformation_part(template: dict[str, Any], resolver: Resolver) -> list[str]:
    """Supported resources whose references stay inside the supported set (a GetAtt to a resource
    moto skips would break the whole stack)."""
    resources = template["Resources"]
    chosen = {lid for lid, r in resources.items() if r["Type"] in VIA_CLOUDFORMATION}
    changed = True
    while changed:
        changed = False
        for logical_id in sorted(chosen):
            if not resolver.references(resources[logical_id]) <= chosen:
                chosen.discard(logical_id)
                changed = True
    return sorted(lid for lid in chosen if resolver.included(lid))


def _create_with_cloudformation(stack: EmulatedStack, logical_ids: list[str], values: dict[str, str]) -> None:
    template = stack.template
    part = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": template.get("Parameters", {}),
        "Conditions": template.get("Conditions", {}),
        "Resources": {lid: template["Resources"][lid] for lid in logical_ids},
    }
    cfn = boto3.client("cloudformation")
    cfn.create_stack(
        StackName=stack.name,
        TemplateBody=json.dumps(part),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items() if k in part["Parameters"]],
        Capabilities=["CAPABILITY_IAM"],
    )
    status = cfn.describe_stacks(StackName=stack.name)["Stacks"][0]["StackStatus"]
    if status != "CREATE_COMPLETE":
        raise RuntimeError(f"the emulator's CloudFormation ended in {status}")
    for resource in cfn.describe_stack_resources(StackName=stack.name)["StackResources"]:
        logical_id, physical = resource["LogicalResourceId"], resource["PhysicalResourceId"]
        stack.resolver.know(logical_id, physical, **_attributes(template["Resources"][logical_id]["Type"], physical))
        stack.created.append(f"{logical_id} ({resource['ResourceType']}) via CloudFormation: {physical}")


def _attributes(resource_type: str, physical: str) -> dict[str, Any]:  # noqa: PLR0911 - one per type
    """The Fn::GetAtt values the template uses, read from the emulator."""
    if resource_type == "AWS::DynamoDB::Table":
        return {"Arn": boto3.client("dynamodb").describe_table(TableName=physical)["Table"]["TableArn"]}
    if resource_type == "AWS::S3::Bucket":
        return {
            "Arn": f"arn:aws:s3:::{physical}",
            "RegionalDomainName": f"{physical}.s3.us-east-1.amazonaws.com",
            "DomainName": f"{physical}.s3.amazonaws.com",
        }
    if resource_type == "AWS::SQS::Queue":
        attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])
        return {"Arn": attributes["Attributes"]["QueueArn"], "QueueName": physical.rsplit("/", 1)[-1]}
    if resource_type == "AWS::SNS::Topic":
        return {"TopicArn": physical, "TopicName": physical.rsplit(":", 1)[-1]}
    if resource_type == "AWS::KMS::Key":  # (moto's DescribeKey fails on keys its CloudFormation made)
        return {"Arn": f"arn:aws:kms:us-east-1:123456789012:key/{physical}"}
    if resource_type == "AWS::Logs::LogGroup":
        return {"Arn": f"arn:aws:logs:us-east-1:123456789012:log-group:{physical}:*"}
    return {}


def _create_the_rest(stack: EmulatedStack, done: set[str]) -> None:
    creators = {
        "AWS::SecretsManager::Secret": _secret,
        "AWS::CloudFront::Distribution": _distribution,
        "AWS::Route53::RecordSet": _record_set,
        "AWS::CloudWatch::Alarm": _alarm,
        "AWS::SNS::TopicPolicy": _topic_policy,
        "AWS::SQS::QueuePolicy": _queue_policy,
    }
    pending = [lid for lid in stack.template["Resources"] if lid not in done and stack.resolver.included(lid)]
    # Create in dependency order: each pass creates what no longer waits on anything pending.
    while pending:
        progressed = False
        for logical_id in list(pending):
            resource = stack.template["Resources"][logical_id]
            if stack.resolver.references(resource) & set(pending) - {logical_id}:
                continue
            creator = creators.get(resource["Type"])
            if creator is not None:
                creator(stack, logical_id, stack.resolver.resource(logical_id) or {})
            else:
                stack.emulated.append(_played_by(logical_id, resource["Type"]))
                stack.resolver.stand_in(logical_id)
            pending.remove(logical_id)
            progressed = True
        if not progressed:
            raise RuntimeError(f"cannot order the remaining resources: {', '.join(pending)}")


PLAYED_BY = {
    "AWS::Lambda::Function": "not deployed; its handler runs in-process with its template environment",
    "AWS::Lambda::LayerVersion": "not deployed; the handlers import layers/common directly",
    "AWS::Lambda::Permission": "not needed: SNS delivery and the Function URL are played in-process",
    "AWS::Lambda::Url": "played by a loopback Function URL (payload format 2.0, AuthType NONE)",
    "AWS::IAM::Role": "not deployed; the emulator does not enforce IAM",
    "AWS::SNS::Subscription": "the rehearsal delivers the topic's messages to the handlers in-process",
    "AWS::Lambda::EventInvokeConfig": (
        "played by the local Invoke API: a failed asynchronous event is retried MaximumRetryAttempts times, "
        "then kept as a dead letter (not sent to SQS); MaximumEventAgeInSeconds is not enforced"
    ),
    "AWS::CloudFront::Function": "played by the local edge server",
    "AWS::CloudFront::OriginAccessControl": "played by the local edge server",
    "AWS::CloudFront::ResponseHeadersPolicy": "played by the local edge server",
    # moto enforces bucket policies, and the emulator speaks plain HTTP: the TLS-only statement
    # would refuse every request. The local edge reads the bucket as the OAC-signed CloudFront would.
    "Custom::MaintenancePage": "created by running page_setup in-process on CloudFormation's Create request",
    "AWS::S3::BucketPolicy": "not applied: the emulator speaks plain HTTP, which its TLS-only statement refuses",
}


def _played_by(logical_id: str, resource_type: str) -> str:
    return f"{logical_id} ({resource_type}): {PLAYED_BY.get(resource_type, 'not emulated')}"


def _secret(stack: EmulatedStack, logical_id: str, props: dict[str, Any]) -> None:
    name = f"{stack.name}-{logical_id}-{uuid.uuid4().hex[:6]}"
    arn = boto3.client("secretsmanager").create_secret(
        Name=name, Description=props.get("Description", ""), SecretString=props.get("SecretString", "{}")
    )["ARN"]
    stack.resolver.know(logical_id, arn)
    stack.created.append(f"{logical_id} (AWS::SecretsManager::Secret) via API: {arn}")


def _distribution(stack: EmulatedStack, logical_id: str, props: dict[str, Any]) -> None:
    config = props["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    api_config = {
        "CallerReference": f"{stack.name}-{logical_id}",
        "Comment": config.get("Comment", ""),
        "Enabled": config.get("Enabled", True),
        "Aliases": _items(config.get("Aliases", [])),
        "DefaultRootObject": config.get("DefaultRootObject", ""),
        "PriceClass": config.get("PriceClass", "PriceClass_All"),
        "Origins": _items(
            [
                {
                    "Id": origin["Id"],
                    "DomainName": origin["DomainName"],
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                    "OriginAccessControlId": str(origin.get("OriginAccessControlId", "")),
                }
                for origin in config["Origins"]
            ]
        ),
        "DefaultCacheBehavior": {
            "TargetOriginId": behavior["TargetOriginId"],
            "ViewerProtocolPolicy": behavior["ViewerProtocolPolicy"],
            "CachePolicyId": behavior.get("CachePolicyId", ""),
        },
        "CustomErrorResponses": _items(
            [
                {k: str(v) if k == "ResponseCode" else v for k, v in response.items()}
                for response in config.get("CustomErrorResponses", [])
            ]
        ),
    }
    created = boto3.client("cloudfront").create_distribution(DistributionConfig=api_config)["Distribution"]
    stack.resolver.know(logical_id, created["Id"], DomainName=created["DomainName"], Id=created["Id"])
    stack.created.append(
        f"{logical_id} (AWS::CloudFront::Distribution) via API: {created['Id']} at {created['DomainName']}"
    )


def _items(values: list[Any]) -> dict[str, Any]:
    return {"Quantity": len(values), "Items": values}


def _record_set(stack: EmulatedStack, logical_id: str, props: dict[str, Any]) -> None:
    keys = ("Name", "Type", "SetIdentifier", "Failover", "HealthCheckId", "TTL")
    record: dict[str, Any] = {k: props[k] for k in keys if k in props}
    if "AliasTarget" in props:
        record["AliasTarget"] = props["AliasTarget"]
    if "ResourceRecords" in props:
        record["ResourceRecords"] = [{"Value": value} for value in props["ResourceRecords"]]
    boto3.client("route53").change_resource_record_sets(
        HostedZoneId=props["HostedZoneId"],
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": record}]},
    )
    stack.resolver.know(logical_id, props["Name"])
    target = props.get("AliasTarget", {}).get("DNSName") or ", ".join(props.get("ResourceRecords", []))
    stack.created.append(
        f"{logical_id} (AWS::Route53::RecordSet) via API: {props['Failover']} {props['Type']} -> {target}"
    )


def _alarm(stack: EmulatedStack, logical_id: str, props: dict[str, Any]) -> None:
    boto3.client("cloudwatch").put_metric_alarm(**props)
    stack.resolver.know(logical_id, props["AlarmName"])
    driven = " (the emulator has no metrics: the rehearsal drives it)" if props["Namespace"] == "AWS/Route53" else ""
    stack.created.append(f"{logical_id} (AWS::CloudWatch::Alarm) via API: {props['AlarmName']}{driven}")


def _topic_policy(stack: EmulatedStack, logical_id: str, props: dict[str, Any]) -> None:
    for topic in props["Topics"]:
        boto3.client("sns").set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(props["PolicyDocument"])
        )
    stack.resolver.know(logical_id, logical_id)
    stack.created.append(f"{logical_id} (AWS::SNS::TopicPolicy) via API (stored, not enforced by the emulator)")


def _queue_policy(stack: EmulatedStack, logical_id: str, props: dict[str, Any]) -> None:
    for queue in props["Queues"]:
        boto3.client("sqs").set_queue_attributes(
            QueueUrl=queue, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
        )
    stack.resolver.know(logical_id, logical_id)
    stack.created.append(f"{logical_id} (AWS::SQS::QueuePolicy) via API (stored, not enforced by the emulator)")
