"""The deployed stack as the operator verbs see it: its outputs and parameters, read through
CloudFormation, so no verb ever asks the user for an id."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import boto3


class DetourError(RuntimeError):
    """A problem the verb cannot work around (missing stack or output, AWS refused): exit code 2."""


@dataclass(frozen=True, slots=True)
class StackOutputs:
    name: str
    outputs: dict[str, str]
    parameters: dict[str, str]

    def output(self, key: str) -> str:
        try:
            return self.outputs[key]
        except KeyError:
            raise DetourError(
                f"stack {self.name} has no output {key}: deploy template.yaml first (or update the stack)"
            ) from None

    def parameter(self, key: str) -> str:
        try:
            return self.parameters[key]
        except KeyError:
            raise DetourError(f"stack {self.name} has no parameter {key}: is it a Detour stack?") from None


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default="detour", help="the deployed Detour stack (default: detour)")
    parser.add_argument("--region", default="us-east-1", help="its region (default: us-east-1)")
    parser.add_argument("--profile", help="AWS profile to use (default: the usual boto3 credential chain)")


def session_for(args: argparse.Namespace) -> Any:
    """A boto3 session for --profile/--region. boto3 honours AWS_ENDPOINT_URL (tests point it at moto)."""
    import botocore.exceptions  # noqa: PLC0415

    try:
        return boto3.Session(profile_name=args.profile, region_name=args.region)
    except botocore.exceptions.ProfileNotFound as error:
        raise DetourError(str(error)) from error


def find_stack(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    """The stack as describe_stacks shows it, or None when there is no stack of that name. Any other
    refusal is raised (botocore's ClientError)."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error.response.get("Error", {}).get("Message", "")):
            return None
        raise
    return dict(stacks[0]) if stacks else None


def read_stack(cloudformation: Any, stack_name: str) -> StackOutputs:
    from botocore.exceptions import ClientError  # noqa: PLC0415

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        if "does not exist" in message:
            raise DetourError(f"no stack {stack_name} here ({message}): check --stack, --region, --profile") from error
        raise DetourError(f"CloudFormation refused describe_stacks for {stack_name}: {message}") from error
    if not stacks:
        raise DetourError(f"no stack {stack_name} here: check --stack, --region, --profile")
    described = stacks[0]
    return StackOutputs(
        name=stack_name,
        outputs={o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])},
    )
