"""`detour invoke FUNCTION EVENT`: run one function's handler in-process with an event file, as
`sam local invoke` does, without a container runtime.

The environment comes from template.yaml, resolved against a deployed stack (its physical resource
ids, read through CloudFormation with your AWS credentials) or, with --local, against a fresh local
deployment: the embedded AWS with the template in it and a local Slack, as `detour demo` uses.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import boto3

from detour_cli.local.lambda_runtime import ROOT, InProcessFunction
from detour_cli.template import Resolver, load, parameter_defaults, transform


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="detour invoke", description=__doc__.splitlines()[0])
    parser.add_argument(
        "function", help="a directory under functions/ (log_window) or a logical id (LogWindowFunction)"
    )
    parser.add_argument("event", type=Path, help="the event file, e.g. events/alarm.json")
    parser.add_argument("--stack", default="detour", help="the deployed stack whose resources to use (default: detour)")
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
        return _invoke_locally(logical_id, directory, event, args.env)
    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    variables = environment_from_stack(template, logical_id, args.stack, session, args.endpoint_url)
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


def _invoke_locally(logical_id: str, directory: str, event: dict[str, Any], overrides: list[str]) -> int:
    from detour_cli.local.sandbox import local_sandbox  # noqa: PLC0415 - starts an emulator

    with local_sandbox() as sandbox:
        variables = sandbox.stack.function_environment(logical_id) | dict(item.split("=", 1) for item in overrides)
        print(f"local deployment at {sandbox.endpoint}; {logical_id} runs with:", file=sys.stderr)
        for name, value in sorted(variables.items()):
            print(f"  {name}={value}", file=sys.stderr)
        status = _run(InProcessFunction(directory, variables, function_name=f"local-{logical_id}"), event)
        for message in sandbox.slack.messages:
            where = f"thread {message.thread_ts}" if message.thread_ts else "channel"
            print(f"local Slack ({where}): {message.text}", file=sys.stderr)
        return status


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
