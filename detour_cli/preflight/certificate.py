"""The certificate for the site's distribution: in us-east-1 (CloudFront takes certificates only from
there), ISSUED, and covering the domain."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from detour_cli.preflight.result import Result, failed, passed
from detour_cli.preflight.settings import REGION, SiteSettings

CHECK = "certificate"


def covers(name: str, domain: str) -> bool:
    """A certificate name covers the domain exactly, or as a wildcard for one label: *.example.com
    covers www.example.com, not example.com and not a.b.example.com."""
    name, domain = name.lower().rstrip("."), domain.lower().rstrip(".")
    if name.startswith("*."):
        head, _, rest = domain.partition(".")
        return bool(head) and rest == name[2:]
    return name == domain


def arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[:3] == ["arn", "aws", "acm"] else ""


def request_command(domain: str) -> str:
    return f"aws acm request-certificate --region {REGION} --domain-name {domain} --validation-method DNS"


def check_certificate(session: Any, settings: SiteSettings) -> Result:  # noqa: PLR0911 - one return per finding
    arn, domain = settings.certificate_arn, settings.domain
    if not arn:
        return failed(CHECK, "no certificate given", f"request one in {REGION}:\n{request_command(domain)}")
    region = arn_region(arn)
    if not region:
        return failed(
            CHECK, f"{arn} is not an ACM certificate ARN", f"list yours:\naws acm list-certificates --region {REGION}"
        )
    if region != REGION:
        return failed(
            CHECK,
            f"the certificate is in {region}: CloudFront uses certificates from {REGION} only",
            f"request (or import) one in {REGION} and give its ARN:\n{request_command(domain)}",
        )
    acm = session.client("acm", region_name=REGION)
    try:
        certificate = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        return failed(
            CHECK,
            f"no certificate {arn} in this account",
            f"check the ARN, or request one:\naws acm list-certificates --region {REGION}\n{request_command(domain)}",
        )
    names = [certificate.get("DomainName", ""), *certificate.get("SubjectAlternativeNames", [])]
    names = list(dict.fromkeys(name for name in names if name))
    status = certificate.get("Status", "?")
    listed = f"names: {', '.join(names)}"
    if status != "ISSUED":
        fix = (
            "create the DNS validation record(s) ACM asks for, then wait for ISSUED:\naws acm describe-certificate "
            f"--region {REGION} --certificate-arn {arn} --query Certificate.DomainValidationOptions"
            if status == "PENDING_VALIDATION"
            else f"this certificate cannot be used again: request a new one:\n{request_command(domain)}"
        )
        return failed(CHECK, f"the certificate is {status}, not ISSUED", fix, listed)
    matching = [name for name in names if covers(name, domain)]
    if not matching:
        return failed(
            CHECK,
            f"the certificate does not cover {domain}",
            f"request one that does (a wildcard covers one label only):\n{request_command(domain)}",
            listed,
        )
    return passed(CHECK, f"ISSUED in {REGION}, covers {domain} (as {matching[0]})", listed)
