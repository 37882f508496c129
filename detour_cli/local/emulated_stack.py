"""Deploy Detour into the embedded AWS (moto's server), as far as an emulator allows: the hub
(template.yaml, through the SAM transform) and each site (sites/site.yaml, plain CloudFormation that
imports the hub's exports), and delete a site again.

CloudFormation (moto's) creates every resource it supports whose references it can resolve; the rest
is created through its own API with the template's properties (the distribution, the secondary
record that points at it, the alarms, the secret, the policies, and the calculated and alarm-backed
health checks, which moto's CloudFormation would make without their children, threshold and alarm),
in dependency order (references and DependsOn; a resource whose Condition leaves it out, which only
an Fn::If branch not taken can name, is no dependency). The Lambda functions are not deployed: moto
cannot run them, so the rehearsal runs their handlers in-process, the same code Lambda runs, with the
environment the template gives them; a custom resource is created by running its service token's
handler on CloudFormation's own request. Every health check's whole configuration is kept on the
stack (`EmulatedStack.health_checks`) for whatever plays Route 53's checkers.
Every step is reported, and so is what is only emulated.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from detour_cli.local.cfn_endpoint import custom_resource_request
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
ACCOUNT = "123456789012"
# Health check types moto's CloudFormation cannot make: it keeps neither ChildHealthChecks nor HealthThreshold,
# so these are made through the Route 53 API (which keeps both; no moto API keeps AlarmIdentifier or
# InsufficientDataHealthStatus, which EmulatedStack.health_checks keeps instead).
HEALTH_CHECK_TYPES_BY_API = {"CALCULATED", "CLOUDWATCH_METRIC"}

# Runs a custom resource's service token (a function ARN) on CloudFormation's request event.
ServiceTokens = Callable[[str, dict[str, Any]], object]


class CustomResourceFailed(RuntimeError):
    """A custom resource answered FAILED (CloudFormation would roll the stack back)."""


@dataclass(frozen=True, slots=True)
class EmulatedHealthCheck:
    """A Route 53 health check of the stack, with its whole configuration as the template gives it: what a
    local evaluator needs and the emulator does not keep (an alarm-backed check's AlarmIdentifier and
    InsufficientDataHealthStatus). Child checks are physical ids, as Route 53 holds them."""

    logical_id: str
    health_check_id: str
    config: dict[str, Any]  # HealthCheckConfig, resolved

    @property
    def type(self) -> str:
        return str(self.config.get("Type", ""))

    @property
    def alarm_name(self) -> str:
        """A CLOUDWATCH_METRIC check's alarm (empty for other types)."""
        return str(self.config.get("AlarmIdentifier", {}).get("Name", ""))

    @property
    def insufficient_data_health_status(self) -> str:
        return str(self.config.get("InsufficientDataHealthStatus", ""))

    @property
    def children(self) -> list[str]:
        """A CALCULATED check's child health check ids."""
        return [str(child) for child in self.config.get("ChildHealthChecks", [])]

    @property
    def health_threshold(self) -> int | None:
        """A CALCULATED check: how many children must be healthy for it to be healthy."""
        threshold = self.config.get("HealthThreshold")
        return None if threshold is None else int(threshold)


@dataclass
class EmulatedStack:
    name: str
    template: dict[str, Any]
    resolver: Resolver
    created: list[str] = field(default_factory=list)  # what exists in the emulator, and how
    emulated: list[str] = field(default_factory=list)  # what is played by something local instead
    order: list[str] = field(default_factory=list)  # logical ids in the order they were created
    through_cfn: list[str] = field(default_factory=list)  # the part moto's CloudFormation made
    pending: list[str] = field(default_factory=list)  # custom resources waiting for their function
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # custom resource -> its answer
    health_checks: dict[str, EmulatedHealthCheck] = field(default_factory=dict)  # every health check made
    _undo: dict[str, Callable[[], str]] = field(default_factory=dict)  # API-made resource -> its delete

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

    def parameter(self, name: str) -> str:
        return str(self.resolver.refs[name])

    def outputs(self) -> dict[str, Any]:
        """The stack's outputs as CloudFormation would show them (those whose condition holds)."""
        found = {}
        for key, output in self.template.get("Outputs", {}).items():
            if "Condition" in output and not self.resolver.condition(output["Condition"]):
                continue
            found[key] = self.resolver.value(output["Value"])
        return found

    def exports(self) -> dict[str, str]:
        """Export name -> value, for every output the stack exports (what Fn::ImportValue reads)."""
        found = {}
        for key, output in self.template.get("Outputs", {}).items():
            if "Export" in output:
                found[str(self.resolver.value(output["Export"]["Name"]))] = str(self.outputs()[key])
        return found

    def create_pending(self, service_tokens: ServiceTokens) -> None:
        """Create the custom resources that waited for their functions (a hub deployed before its
        functions were served): each gets CloudFormation's Create request."""
        for logical_id in list(self.pending):
            _custom_resource(self, logical_id, self.resolver.resource(logical_id) or {}, service_tokens)
            self.pending.remove(logical_id)


def deploy(
    template_path: Path,
    parameters: dict[str, str],
    stack_name: str = "detour",
    *,
    service_tokens: ServiceTokens | None = None,
) -> EmulatedStack:
    """Create the hub stack (a SAM template) in the emulator boto3 points at (AWS_ENDPOINT_URL).
    Without `service_tokens` its custom resources wait in `pending` for `create_pending`."""
    source = load(template_path)
    return _deploy(transform(source), parameter_defaults(source) | parameters, stack_name, service_tokens)


def deploy_site(
    template_path: Path,
    parameters: dict[str, str],
    stack_name: str,
    *,
    hub: EmulatedStack,
    service_tokens: ServiceTokens,
) -> EmulatedStack:
    """Create a site stack (plain CloudFormation, no transform) that imports `hub`'s exports."""
    source = load(template_path)
    return _deploy(source, parameter_defaults(source) | parameters, stack_name, service_tokens, hub.exports())


def _deploy(
    template: dict[str, Any],
    values: dict[str, str],
    stack_name: str,
    service_tokens: ServiceTokens | None,
    imports: dict[str, str] | None = None,
) -> EmulatedStack:
    resolver = Resolver(template, values, pseudo={"AWS::StackName": stack_name}, strict=True, imports=imports)
    failures = resolver.failed_rules()
    if failures:
        raise ValueError("the template's rules refuse these parameters: " + " / ".join(failures))
    stack = EmulatedStack(stack_name, template, resolver)
    stack.through_cfn = _cloudformation_part(template, resolver)
    _create_with_cloudformation(stack, stack.through_cfn, values)
    _create_the_rest(stack, set(stack.through_cfn), service_tokens)
    return stack


def delete_stack(stack: EmulatedStack, service_tokens: ServiceTokens) -> list[str]:
    """Delete the stack as CloudFormation would: its resources in the reverse order of their creation
    (a custom resource gets the Delete request), then the part moto's CloudFormation made. Returns
    what was deleted, one line per resource."""
    deleted = []
    for logical_id in reversed(stack.order):
        if logical_id in stack.through_cfn:
            continue
        resource_type = stack.template["Resources"][logical_id]["Type"]
        if resource_type.startswith("Custom::"):
            deleted.append(_delete_custom_resource(stack, logical_id, service_tokens))
        elif logical_id in stack._undo:
            deleted.append(f"{logical_id} ({resource_type}) via API: {stack._undo[logical_id]()}")
        else:
            deleted.append(f"{logical_id} ({resource_type}): played locally, nothing to delete")
    cfn = boto3.client("cloudformation")
    cfn.delete_stack(StackName=stack.name)
    route53 = boto3.client("route53")
    for logical_id in reversed(stack.through_cfn):
        resource_type = stack.template["Resources"][logical_id]["Type"]
        deleted.append(f"{logical_id} ({resource_type}) via CloudFormation: {stack.physical_id(logical_id)}")
        if resource_type == "AWS::Route53::HealthCheck":  # moto's CloudFormation leaves it behind
            try:
                route53.delete_health_check(HealthCheckId=stack.physical_id(logical_id))
                deleted[-1] += " (moto's CloudFormation leaves it behind: deleted through the API)"
            except ClientError as error:
                if error.response["Error"]["Code"] != "NoSuchHealthCheck":
                    raise
    return deleted


def _cloudformation_part(template: dict[str, Any], resolver: Resolver) -> list[str]:
    """Supported resources whose references stay inside the supported set (a GetAtt to a resource
    moto skips would break the whole stack), and that import nothing (the hub's exports are the
    Resolver's: moto's stack of the hub holds only part of it, without its outputs)."""
    resources = template["Resources"]
    chosen = {
        lid
        for lid, r in resources.items()
        if r["Type"] in VIA_CLOUDFORMATION
        and "Fn::ImportValue" not in json.dumps(r)
        and resolver.included(lid)
        and not _health_check_by_api(resolver, lid)
    }
    changed = True
    while changed:
        changed = False
        for logical_id in sorted(chosen):
            if not _dependencies(resolver, resources[logical_id]) <= chosen:
                chosen.discard(logical_id)
                changed = True
    return sorted(chosen)


def _health_check_by_api(resolver: Resolver, logical_id: str) -> bool:
    resource = resolver.template["Resources"][logical_id]
    if resource["Type"] != "AWS::Route53::HealthCheck":
        return False
    kind = resolver.value(resource.get("Properties", {}).get("HealthCheckConfig", {}).get("Type"))
    return kind in HEALTH_CHECK_TYPES_BY_API


def _dependencies(resolver: Resolver, resource: dict[str, Any]) -> set[str]:
    """What must exist before the resource: what it refers to, and what it DependsOn. A resource its
    Condition leaves out is no dependency: only an Fn::If branch that is not taken can refer to it."""
    depends_on = resource.get("DependsOn", [])
    found = resolver.references(resource) | set([depends_on] if isinstance(depends_on, str) else depends_on)
    return {logical_id for logical_id in found if resolver.included(logical_id)}


def _create_with_cloudformation(stack: EmulatedStack, logical_ids: list[str], values: dict[str, str]) -> None:
    template = stack.template
    part = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": template.get("Parameters", {}),
        "Mappings": template.get("Mappings", {}),
        "Conditions": template.get("Conditions", {}),
        "Resources": {lid: template["Resources"][lid] for lid in logical_ids},
    }
    if not part["Mappings"]:
        del part["Mappings"]
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
        stack.order.append(logical_id)
        _complete(stack, logical_id, physical)
        if resource["ResourceType"] == "AWS::Route53::HealthCheck":
            _keep_health_check(stack, logical_id, physical)


def _complete(stack: EmulatedStack, logical_id: str, physical: str) -> None:
    """What moto's CloudFormation leaves out of a resource it made, done through the API."""
    resource = stack.template["Resources"][logical_id]
    versioning = stack.resolver.value(resource.get("Properties", {}).get("VersioningConfiguration"))
    if resource["Type"] == "AWS::S3::Bucket" and versioning:
        boto3.client("s3").put_bucket_versioning(Bucket=physical, VersioningConfiguration=versioning)
        stack.created[-1] += f" (versioning {versioning['Status']} through the API: moto's CloudFormation ignores it)"


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
        return {"Arn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{physical}"}
    if resource_type == "AWS::Logs::LogGroup":
        return {"Arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{physical}:*"}
    return {}


def _create_the_rest(stack: EmulatedStack, done: set[str], service_tokens: ServiceTokens | None) -> None:
    creators: dict[str, Callable[[EmulatedStack, str, dict[str, Any]], None]] = {
        "AWS::SecretsManager::Secret": _secret,
        "AWS::CloudFront::Distribution": _distribution,
        "AWS::Route53::RecordSet": _record_set,
        "AWS::CloudWatch::Alarm": _alarm,
        "AWS::Route53::HealthCheck": _health_check,
        "AWS::SNS::TopicPolicy": _topic_policy,
        "AWS::SQS::QueuePolicy": _queue_policy,
        "AWS::Lambda::Function": _function,
    }
    resources = stack.template["Resources"]
    pending = [lid for lid in resources if lid not in done and stack.resolver.included(lid)]
    # Create in dependency order: each pass creates what no longer waits on anything pending.
    while pending:
        progressed = False
        for logical_id in list(pending):
            resource = resources[logical_id]
            if _dependencies(stack.resolver, resource) & set(pending) - {logical_id}:
                continue
            creator = creators.get(resource["Type"])
            if resource["Type"].startswith("Custom::"):
                if service_tokens is None:
                    stack.pending.append(logical_id)
                    stack.resolver.stand_in(logical_id)
                else:
                    _custom_resource(stack, logical_id, stack.resolver.resource(logical_id) or {}, service_tokens)
            elif creator is not None:
                creator(stack, logical_id, stack.resolver.resource(logical_id) or {})
            else:
                stack.emulated.append(_played_by(logical_id, resource["Type"]))
                stack.resolver.stand_in(logical_id)
            stack.order.append(logical_id)
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
    "AWS::S3::BucketPolicy": "not applied: the emulator speaks plain HTTP, which its TLS-only statement refuses",
}


def _played_by(logical_id: str, resource_type: str) -> str:
    return f"{logical_id} ({resource_type}): {PLAYED_BY.get(resource_type, 'not emulated')}"


def _function(stack: EmulatedStack, logical_id: str, props: dict[str, Any]) -> None:
    """Not deployed, but named as CloudFormation names it, so that its ARN can be a service token,
    an export, or another function's environment."""
    name = f"{stack.name}-{logical_id}"
    stack.resolver.know(logical_id, name, Arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}")
    stack.emulated.append(_played_by(logical_id, "AWS::Lambda::Function"))


def _custom_resource(
    stack: EmulatedStack, logical_id: str, props: dict[str, Any], service_tokens: ServiceTokens
) -> None:
    resource_type = stack.template["Resources"][logical_id]["Type"]
    token = str(props["ServiceToken"])
    answer = _ask(stack, logical_id, "Create", props, service_tokens)
    stack.answers[logical_id] = answer
    if answer.get("Status") != "SUCCESS":
        raise CustomResourceFailed(
            f"{logical_id} ({resource_type}) answered {answer.get('Status')}: {answer.get('Reason')}"
        )
    physical = str(answer["PhysicalResourceId"])
    stack.resolver.know(logical_id, physical, **answer.get("Data", {}))
    function = token.rsplit(":", 1)[-1]
    stack.created.append(f"{logical_id} ({resource_type}) via its service token {function}, run in-process: {physical}")


def _delete_custom_resource(stack: EmulatedStack, logical_id: str, service_tokens: ServiceTokens) -> str:
    resource_type = stack.template["Resources"][logical_id]["Type"]
    props = stack.resolver.resource(logical_id) or {}
    answer = _ask(stack, logical_id, "Delete", props, service_tokens, physical_id=stack.physical_id(logical_id))
    if answer.get("Status") != "SUCCESS":  # CloudFormation: DELETE_FAILED, and the stack stays
        raise CustomResourceFailed(f"{logical_id} ({resource_type}) refused its Delete: {answer.get('Reason')}")
    data = ", ".join(f"{k}={v}" for k, v in answer.get("Data", {}).items())
    return f"{logical_id} ({resource_type}) Delete request, run in-process: SUCCESS{f' ({data})' if data else ''}"


def _ask(
    stack: EmulatedStack,
    logical_id: str,
    request_type: str,
    props: dict[str, Any],
    service_tokens: ServiceTokens,
    *,
    physical_id: str | None = None,
) -> dict[str, Any]:
    """CloudFormation's request to a custom resource's service token, and the answer it got."""
    token = str(props["ServiceToken"])
    return custom_resource_request(
        lambda event: service_tokens(token, event),
        request_type=request_type,
        stack_name=stack.name,
        logical_id=logical_id,
        resource_type=stack.template["Resources"][logical_id]["Type"],
        properties=props,
        physical_id=physical_id,
    )


def _secret(stack: EmulatedStack, logical_id: str, props: dict[str, Any]) -> None:
    name = f"{stack.name}-{logical_id}-{uuid.uuid4().hex[:6]}"
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(
        Name=name, Description=props.get("Description", ""), SecretString=props.get("SecretString", "{}")
    )["ARN"]
    stack.resolver.know(logical_id, arn)
    stack.created.append(f"{logical_id} (AWS::SecretsManager::Secret) via API: {arn}")

    def undo() -> str:
        secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
        return str(arn)

    stack._undo[logical_id] = undo


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
                    "OriginPath": origin.get("OriginPath", ""),
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
    cloudfront = boto3.client("cloudfront")
    created = cloudfront.create_distribution(DistributionConfig=api_config)["Distribution"]
    distribution_id = created["Id"]
    stack.resolver.know(logical_id, distribution_id, DomainName=created["DomainName"], Id=distribution_id)
    origin_path = "".join(f" (origin path {o['OriginPath']})" for o in config["Origins"] if o.get("OriginPath"))
    stack.created.append(
        f"{logical_id} (AWS::CloudFront::Distribution) via API: {distribution_id} at {created['DomainName']}"
        + origin_path
    )

    def undo() -> str:  # CloudFront deletes only a disabled distribution
        current = cloudfront.get_distribution_config(Id=distribution_id)
        disabled = current["DistributionConfig"] | {"Enabled": False}
        cloudfront.update_distribution(Id=distribution_id, DistributionConfig=disabled, IfMatch=current["ETag"])
        etag = cloudfront.get_distribution(Id=distribution_id)["ETag"]
        cloudfront.delete_distribution(Id=distribution_id, IfMatch=etag)
        return f"{distribution_id} disabled, then deleted"

    stack._undo[logical_id] = undo


def _items(values: list[Any]) -> dict[str, Any]:
    return {"Quantity": len(values), "Items": values}


def _record_set(stack: EmulatedStack, logical_id: str, props: dict[str, Any]) -> None:
    keys = ("Name", "Type", "SetIdentifier", "Failover", "HealthCheckId", "TTL")
    record: dict[str, Any] = {k: props[k] for k in keys if k in props}
    if "TTL" in record:
        record["TTL"] = int(record["TTL"])  # a string in the template ("60"), a number to the API
    if "AliasTarget" in props:
        record["AliasTarget"] = props["AliasTarget"]
    if "ResourceRecords" in props:
        record["ResourceRecords"] = [{"Value": value} for value in props["ResourceRecords"]]
    route53 = boto3.client("route53")
    route53.change_resource_record_sets(
        HostedZoneId=props["HostedZoneId"],
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": record}]},
    )
    stack.resolver.know(logical_id, props["Name"])
    target = props.get("AliasTarget", {}).get("DNSName") or ", ".join(props.get("ResourceRecords", []))
    what = f"{props['Failover']} {props['Type']} -> {target}"
    stack.created.append(f"{logical_id} (AWS::Route53::RecordSet) via API: {what}")

    def undo() -> str:
        route53.change_resource_record_sets(
            HostedZoneId=props["HostedZoneId"],
            ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]},
        )
        return what

    stack._undo[logical_id] = undo


ALARM_INTEGERS = ("Period", "EvaluationPeriods", "DatapointsToAlarm")  # a parameter's Ref is a string to the API


def _alarm(stack: EmulatedStack, logical_id: str, props: dict[str, Any]) -> None:
    cloudwatch = boto3.client("cloudwatch")
    props = dict(props)
    for key in ALARM_INTEGERS:
        if key in props:
            props[key] = int(props[key])
    if "Threshold" in props:
        props["Threshold"] = float(props["Threshold"])
    cloudwatch.put_metric_alarm(**props)
    stack.resolver.know(logical_id, props["AlarmName"])
    driven = " (the emulator has no metrics: the rehearsal drives it)" if props["Namespace"] == "AWS/Route53" else ""
    stack.created.append(f"{logical_id} (AWS::CloudWatch::Alarm) via API: {props['AlarmName']}{driven}")

    def undo() -> str:
        cloudwatch.delete_alarms(AlarmNames=[props["AlarmName"]])
        return str(props["AlarmName"])

    stack._undo[logical_id] = undo


def _keep_health_check(stack: EmulatedStack, logical_id: str, physical: str) -> None:
    """The health check's configuration as the template resolves it, on the stack (EmulatedStack.health_checks)."""
    props = stack.resolver.resource(logical_id) or {}
    config = dict(props.get("HealthCheckConfig", {}))
    stack.health_checks[logical_id] = EmulatedHealthCheck(logical_id, physical, config)


HEALTH_CHECK_INTEGERS = ("Port", "RequestInterval", "FailureThreshold", "HealthThreshold")


def _health_check(stack: EmulatedStack, logical_id: str, props: dict[str, Any]) -> None:
    """A calculated or alarm-backed check, through the API: Route 53 (moto) keeps a calculated check's children
    and threshold; what it drops of an alarm-backed one (AlarmIdentifier, InsufficientDataHealthStatus) is kept
    in EmulatedStack.health_checks for whatever plays the checkers."""
    config = dict(props["HealthCheckConfig"])
    for key in HEALTH_CHECK_INTEGERS:
        if key in config:
            config[key] = int(config[key])
    route53 = boto3.client("route53")
    created = route53.create_health_check(
        CallerReference=f"{stack.name}-{logical_id}-{uuid.uuid4().hex[:8]}", HealthCheckConfig=config
    )
    physical = str(created["HealthCheck"]["Id"])
    tags = props.get("HealthCheckTags", [])
    if tags:
        route53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=physical, AddTags=tags)
    stack.resolver.know(logical_id, physical, HealthCheckId=physical)
    stack.health_checks[logical_id] = EmulatedHealthCheck(logical_id, physical, config)
    if config["Type"] == "CALCULATED":
        children = len(config.get("ChildHealthChecks", []))
        what = f"CALCULATED: healthy while {config.get('HealthThreshold')} of its {children} children are"
    else:
        alarm = config.get("AlarmIdentifier", {})
        found = boto3.client("cloudwatch").describe_alarms(AlarmNames=[str(alarm.get("Name", ""))])["MetricAlarms"]
        what = (
            f"{config['Type']} on alarm {alarm.get('Name')} ({'found' if found else 'not in the emulator'}), "
            f"InsufficientDataHealthStatus {config.get('InsufficientDataHealthStatus', 'LastKnownStatus')}: "
            "kept on the emulated stack, the emulator drops both"
        )
    stack.created.append(f"{logical_id} (AWS::Route53::HealthCheck) via API: {physical} ({what})")

    def undo() -> str:
        route53.delete_health_check(HealthCheckId=physical)
        return physical

    stack._undo[logical_id] = undo


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
