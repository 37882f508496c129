"""template.yaml for the tests: the source, the SAM-transformed template, and site parameters."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

from detour_cli.template import Resolver, load, parameter_defaults, transform

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@functools.cache
def _source() -> dict[str, Any]:
    return load(TEMPLATE)


def source() -> dict[str, Any]:
    return copy.deepcopy(_source())


@functools.cache
def _transformed() -> dict[str, Any]:
    return transform(_source())


def transformed() -> dict[str, Any]:
    return copy.deepcopy(_transformed())


def defaults() -> dict[str, str]:
    return parameter_defaults(_source())


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


def Evaluator(template: dict[str, Any], parameters: dict[str, str], region: str = "us-east-1") -> Resolver:
    """The template's decisions for these parameters (Refs to resources stay as they are)."""
    return Resolver(template, parameters, pseudo={"AWS::Region": region})
