"""`detour invoke FUNCTION EVENT`: run one function's handler in-process with an event file, as
`sam local invoke` does, without a container runtime.

The environment comes from template.yaml, resolved against a deployed hub stack (its physical
resource ids, read through CloudFormation with your AWS credentials) or, with --local, against a
fresh local deployment: the embedded AWS with the hub and one site (www.detour.test) in it and a
local Slack, as `detour demo` uses.

The functions act only for registered sites, so an event that names a site (an alarm's name, ARN
and HealthCheckId dimension; a direct event's site_id) is rewritten for the site --site names
(its domain, health check id, site name or site stack), or for the only site when there is one and
the event names none of the registered sites. Events that name no site (a schedule, a Slack
request) are passed as they are.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import boto3

from detour.incidents.items import IncidentStoreError
from detour.incidents.sites import RegisteredSite, SiteChoiceError, SiteRegistry, choose_site
from detour_cli.local.lambda_runtime import ROOT, InProcessFunction
from detour_cli.template import Resolver, load, parameter_defaults, transform

LOCAL_SITE = "www"  # --local: the site deployed beside the hub (stack detour-site-www)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="detour invoke", description=__doc__.splitlines()[0])
    parser.add_argument(
        "function", help="a directory under functions/ (log_window) or a logical id (LogWindowFunction)"
    )
    parser.add_argument("event", type=Path, help="the event file, e.g. events/alarm.json")
    parser.add_argument(
        "--stack", default="detour", help="the deployed hub stack whose resources to use (default: detour)"
    )
    parser.add_argument(
        "--site",
        metavar="NAME",
        help="the site the event is for: its domain, health check id, site name or site stack "
        "(default: the only site, when the event names no registered one)",
    )
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--profile", help="AWS profile for the deployed stack")
    parser.add_argument("--local", action="store_true", help="deploy the template into a local emulator and use it")
    parser.add_argument("--endpoint-url", help="an emulator's endpoint (e.g. a moto server) instead of AWS")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="override a variable")
    args = parser.parse_args(argv)
    if bad := [item for item in args.env if "=" not in item]:
        parser.error(f"--env takes NAME=VALUE, not {bad[0]!r}")

    event = json.loads(args.event.read_text())
    template = transform(load(ROOT / "template.yaml"))
    logical_id, directory = _function(template, args.function)
    if args.local:
        return _invoke_locally(logical_id, directory, event, args.env, args.site)
    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    variables = environment_from_stack(template, logical_id, args.stack, session, args.endpoint_url)
    dynamodb = session.client("dynamodb", endpoint_url=args.endpoint_url)
    event = _for_site(event, variables, args.site, dynamodb, only_site_by_default=False)
    if event is None:
        return 2
    print(
        f"invoking {logical_id} in-process against stack {args.stack} with your credentials (not its role): "
        "it reads and writes that stack's real resources",
        file=sys.stderr,
    )
    variables.update(dict(item.split("=", 1) for item in args.env))
    if args.endpoint_url:
        variables["AWS_ENDPOINT_URL"] = args.endpoint_url
    variables.setdefault("AWS_REGION", args.region)
    variables.setdefault("AWS_DEFAULT_REGION", args.region)
    if args.profile:
        variables["AWS_PROFILE"] = args.profile

    return _run(InProcessFunction(directory, variables, function_name=f"{args.stack}-{logical_id}"), event)


def _invoke_locally(
    logical_id: str, directory: str, event: dict[str, Any], overrides: list[str], site: str | None
) -> int:
    from detour_cli.local.sandbox import local_sandbox  # noqa: PLC0415 - starts an emulator

    with local_sandbox() as sandbox:
        _add_local_site(sandbox)
        variables = sandbox.stack.function_environment(logical_id) | dict(item.split("=", 1) for item in overrides)
        chosen = _for_site(event, variables, site, boto3.client("dynamodb"), only_site_by_default=True)
        if chosen is None:
            return 2
        event = chosen
        print(f"local deployment at {sandbox.endpoint}; {logical_id} runs with:", file=sys.stderr)
        for name, value in sorted(variables.items()):
            print(f"  {name}={value}", file=sys.stderr)
        status = _run(InProcessFunction(directory, variables, function_name=f"local-{logical_id}"), event)
        for message in sandbox.slack.messages:
            where = f"thread {message.thread_ts}" if message.thread_ts else "channel"
            print(f"local Slack ({where}): {message.text}", file=sys.stderr)
        return status


def _add_local_site(sandbox: Any) -> None:
    """One site beside the local hub, registered by its custom resource (site_setup, in-process)."""
    hub = sandbox.stack

    def service_token(token: str, request: dict[str, Any]) -> None:
        for logical_id, directory in hub.functions().items():
            if hub.resolver.attributes.get((logical_id, "Arn")) == token:
                function = InProcessFunction(
                    directory, hub.function_environment(logical_id), function_name=f"local-{logical_id}"
                )
                function.invoke(request)
                return
        raise LookupError(f"no function of the hub has the ARN {token}")

    stack = sandbox.add_site(LOCAL_SITE, sandbox.site_parameters(), service_token)
    print(f"local site stack {stack.name} deployed beside the hub", file=sys.stderr)


def _for_site(
    event: dict[str, Any], variables: dict[str, str], name: str | None, dynamodb: Any, *, only_site_by_default: bool
) -> dict[str, Any] | None:
    """The event for the chosen site (see the module's docstring); None after saying why it cannot be.
    Against a deployed hub a sample event is sent to a real site only when --site names it: it would
    write that site's history and post in its Slack channel (`only_site_by_default` False)."""
    named = site_ids(event)
    if not named:
        if name:
            print(f"detour invoke: the event names no site; --site {name} is not used", file=sys.stderr)
        return event
    table = variables.get("TABLE_NAME")
    if not table:
        return event
    try:
        sites = SiteRegistry(table, dynamodb).all()
        if name is None and (not sites or named <= {site.site_id for site in sites}):
            return event  # already for a registered site, or no site at all: the function says so
        if name is None and not only_site_by_default:
            print(
                f"detour invoke: the event is for site {', '.join(sorted(named))}, which is not registered with "
                f"stack {variables.get('TABLE_NAME', '?')}'s hub; pass --site NAME to send it to a real site "
                "(it writes that site's history and posts in its Slack channel)",
                file=sys.stderr,
            )
            return None
        site = choose_site(sites, name)
    except (SiteChoiceError, IncidentStoreError) as error:
        print(f"detour invoke: {error}", file=sys.stderr)
        return None
    print(
        f"detour invoke: the event is for site {site.domain} ({site.site_id}, alarm {site.alarm_name})", file=sys.stderr
    )
    return for_site(event, site)


def site_ids(event: dict[str, Any]) -> set[str]:
    """The sites an event names: a direct event's site_id, an alarm message's HealthCheckId dimension."""
    found = {str(event["site_id"])} if isinstance(event.get("site_id"), str) else set()
    for message in (_alarm_message(record) for record in event.get("Records") or []):
        if message is not None:
            found |= {d["value"] for d in _dimensions(message) if d.get("name") == "HealthCheckId" and "value" in d}
    return found


def for_site(event: dict[str, Any], site: RegisteredSite) -> dict[str, Any]:
    """The event as it would come for `site`: its alarm's name and ARN and its HealthCheckId dimension
    in an alarm message (and the SNS subject), or its id in a direct event. A malformed alarm
    message is left as it is: it is what is being tried."""
    event = copy.deepcopy(event)
    if isinstance(event.get("site_id"), str):
        event["site_id"] = site.site_id
    for record in event.get("Records") or []:
        message = _alarm_message(record)
        if message is None:
            continue
        old = str(message.get("AlarmName", ""))
        message["AlarmName"] = site.alarm_name
        if isinstance(message.get("AlarmArn"), str) and ":alarm:" in message["AlarmArn"]:
            message["AlarmArn"] = message["AlarmArn"].split(":alarm:", 1)[0] + f":alarm:{site.alarm_name}"
        for dimension in _dimensions(message):
            if dimension.get("name") == "HealthCheckId":
                dimension["value"] = site.site_id
        sns = record["Sns"]
        sns["Message"] = json.dumps(message)
        if old and isinstance(sns.get("Subject"), str):
            sns["Subject"] = sns["Subject"].replace(f'"{old}"', f'"{site.alarm_name}"')
    return event


def _alarm_message(record: Any) -> dict[str, Any] | None:
    sns = record.get("Sns") if isinstance(record, dict) else None
    if not isinstance(sns, dict) or not isinstance(sns.get("Message"), str):
        return None
    try:
        message = json.loads(sns["Message"])
    except ValueError:
        return None
    return message if isinstance(message, dict) and "AlarmName" in message else None


def _dimensions(message: dict[str, Any]) -> list[dict[str, Any]]:
    trigger = message.get("Trigger")
    dimensions = trigger.get("Dimensions") if isinstance(trigger, dict) else None
    return [d for d in dimensions if isinstance(d, dict)] if isinstance(dimensions, list) else []


def _run(function: InProcessFunction, event: dict[str, Any]) -> int:
    try:
        result = function.invoke(event)
    except Exception as error:  # reported the way Lambda reports a failed invocation
        print(json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


def environment_from_stack(
    template: dict[str, Any], logical_id: str, stack: str, session: Any, endpoint_url: str | None
) -> dict[str, str]:
    """The function's template environment, with Refs and GetAtts resolved from the stack."""
    cfn = session.client("cloudformation", endpoint_url=endpoint_url)
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}
    account = described["StackId"].split(":")[4]
    resolver = Resolver(
        template,
        parameter_defaults(template) | parameters,
        pseudo={"AWS::StackName": stack, "AWS::Region": session.region_name, "AWS::AccountId": account},
    )
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page["StackResourceSummaries"]:
            resolver.know(resource["LogicalResourceId"], resource["PhysicalResourceId"])
    for output in described.get("Outputs", []):
        if output["OutputKey"] == "DistributionDomainName":
            resolver.attributes[("Distribution", "DomainName")] = output["OutputValue"]
    variables = (resolver.resource(logical_id) or {}).get("Environment", {}).get("Variables", {})
    unresolved = sorted(name for name, value in variables.items() if not isinstance(value, str | int | float))
    if unresolved:
        raise SystemExit(f"stack {stack} does not resolve {', '.join(unresolved)}; pass them with --env NAME=VALUE")
    return {name: str(value) for name, value in variables.items()}


def _function(template: dict[str, Any], name: str) -> tuple[str, str]:
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            found[logical_id] = Path(resource["Properties"]["Code"]["S3Key"]).stem
    for logical_id, directory in found.items():
        if name in (logical_id, directory):
            return logical_id, directory
    raise SystemExit(f"no function {name!r} in template.yaml; choose one of: {', '.join(sorted(found.values()))}")
