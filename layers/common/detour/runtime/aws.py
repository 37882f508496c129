"""The AWS clients Detour functions use: created once, on first use, with bounded retries.

Created lazily because building a boto3 client costs about as much again as importing boto3 (service
model, endpoint rules); module import stays cheap and the cost is paid once, by the first invocation.
boto3 honours AWS_ENDPOINT_URL, which is how the tests and the local rehearsal point it at moto.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

# Standard mode retries throttling and 5xx with exponential backoff; past that the error is raised
# so the Lambda invocation fails and the event is retried, then dead-lettered.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)
# Reading which check failed a site over must never hold up its alert or its page (a slow Route 53
# API would cost five attempts of 13 s): one quick try, and the incident is told without it.
DIAGNOSIS_CONFIG = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2, read_timeout=3)


@functools.cache
def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


@functools.cache
def s3_client() -> Any:
    return boto3.client("s3", config=CLIENT_CONFIG)


@functools.cache
def cloudfront_client() -> Any:
    return boto3.client("cloudfront", config=CLIENT_CONFIG)


@functools.cache
def lambda_client() -> Any:
    return boto3.client("lambda", config=CLIENT_CONFIG)


@functools.cache
def route53_client() -> Any:
    return boto3.client("route53", config=CLIENT_CONFIG)


@functools.cache
def cloudwatch_client() -> Any:
    return boto3.client("cloudwatch", config=CLIENT_CONFIG)


@functools.cache
def diagnosis_clients() -> tuple[Any, Any]:
    """Route 53 and CloudWatch clients for reading a site's checks: quick to give up."""
    return boto3.client("route53", config=DIAGNOSIS_CONFIG), boto3.client("cloudwatch", config=DIAGNOSIS_CONFIG)


@functools.cache
def secrets_provider() -> Any:
    """Powertools' SecretsProvider (it caches values) on a client made here, on first use."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider  # noqa: PLC0415 - ~25 ms

    return SecretsProvider(boto3_client=boto3.client("secretsmanager", config=CLIENT_CONFIG))


def forget_clients() -> None:
    """Drop the clients made so far: the next use makes new ones for the current endpoint and
    credentials (a new local emulator, a new test). Lambda never needs this."""
    for factory in (
        dynamodb_client,
        s3_client,
        cloudfront_client,
        lambda_client,
        route53_client,
        cloudwatch_client,
        diagnosis_clients,
        secrets_provider,
    ):
        factory.cache_clear()
