"""The README's sample output of `detour preflight`: the tests' local setup (moto's server, the hub and
two site stacks in the zone detour.test, an imported certificate for *.detour.test) and local
primaries on loopback. A new site that passes, the same site with the common mistakes (a plain record
of its name, a certificate still pending validation, a health path answering 500, a metric-math
signal alarm), then every deployed site, one of whose primaries does not answer. It sets
DETOUR_PREFLIGHT_LOCAL_SETUP=1, as the tests do: only that lets loopback primaries and moto's zone ids through.
Run: PYTHONPATH=.:layers/common .venv/bin/python -m tests.cli.preflight_sample_run"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

import tests.conftest  # noqa: F401 - offline AWS credentials, never a real account
from detour_cli.main import main
from detour_cli.preflight.settings import LOCAL_SETUP_SWITCH
from tests.cli import world as world_module
from tests.cli.drill_world import self_signed_certificate
from tests.support.aws import create_incidents_table, start_moto
from tests.support.probe_servers import Answer, ProbeTarget, imported_certificate

NEW = "shop.detour.test"


def like_site_yaml(
    plain: Callable[..., dict[str, Any]], certificate_arn: str, port: int = 443
) -> Callable[..., dict[str, Any]]:
    """tests.cli.world's site stack template made as sites/site.yaml makes a site: its CertificateArn,
    HealthCheckPort and HealthCheckPath parameters, the health check's endpoint (FullyQualifiedDomainName,
    port, path, SNI) and the failover pair's set identifiers (STACK-primary, STACK-maintenance)."""

    def template(primary_kind: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        made = plain(primary_kind, *args, **kwargs)
        made["Parameters"]["CertificateArn"] = {"Type": "String", "Default": certificate_arn}
        made["Parameters"]["HealthCheckPort"] = {"Type": "String", "Default": str(port)}
        made["Parameters"]["HealthCheckPath"] = {"Type": "String", "Default": "/health"}
        resources = made["Resources"]
        config = resources["HealthCheck"]["Properties"]["HealthCheckConfig"]
        name = "PrimaryTarget" if primary_kind == "LoadBalancer" else "DomainName"
        config |= {"Port": {"Ref": "HealthCheckPort"}, "ResourcePath": {"Ref": "HealthCheckPath"}, "EnableSNI": True}
        config["FullyQualifiedDomainName"] = {"Ref": name}
        for record, role in (("PrimaryRecordA", "primary"), ("SecondaryRecordA", "maintenance")):
            resources[record]["Properties"]["SetIdentifier"] = {"Fn::Sub": f"${{AWS::StackName}}-{role}"}
        return made

    return template


def show(argv: list[str], shown: list[str] | None = None) -> None:
    print(f"\n$ detour {' '.join(shown or argv)}")
    print(f"[exit {main(argv)}]")


def sample() -> None:
    server, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    os.environ["NO_COLOR"] = "1"
    os.environ[LOCAL_SETUP_SWITCH] = "1"  # loopback primaries and moto's zone ids: the local setup only
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    folder = Path(tempfile.mkdtemp())
    try:
        certificate = imported_certificate(folder / "acm", "*.detour.test")
        route53 = boto3.client("route53")
        with ProbeTarget(Answer(200, b"ok"), tls=self_signed_certificate(folder, NEW)) as primary:
            world_module.stack_template = like_site_yaml(world_module.stack_template, certificate, primary.port)
            www = world_module.build_world(create_incidents_table().name, primary_target="127.0.0.1")
            world_module.add_other_site(www)
            new_site = [
                "preflight",
                *("--domain", NEW, "--hosted-zone-id", www.zone_id, "--primary-kind", "IPv4"),
                *("--primary-target", "127.0.0.1", "--health-check-port", str(primary.port)),
                *("--health-check-path", "/health", "--certificate-arn", certificate),
            ]
            show(new_site)

            route53.change_resource_record_sets(
                HostedZoneId=www.zone_id,
                ChangeBatch={
                    "Changes": [
                        {
                            "Action": "CREATE",
                            "ResourceRecordSet": {
                                "Name": NEW,
                                "Type": "A",
                                "TTL": 300,
                                "ResourceRecords": [{"Value": "192.0.2.44"}],
                            },
                        }
                    ]
                },
            )
            pending = boto3.client("acm", region_name="us-east-1").request_certificate(
                DomainName=NEW, ValidationMethod="DNS"
            )["CertificateArn"]
            primary.answer = Answer(500, b"database unavailable")
            boto3.client("cloudwatch", region_name="us-east-1").put_metric_alarm(
                AlarmName="shop-5xx-rate",
                Metrics=[
                    {"Id": "rate", "Expression": "100 * errors / requests", "ReturnData": True},
                    *(
                        {
                            "Id": key,
                            "MetricStat": {
                                "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": metric},
                                "Period": 60,
                                "Stat": "Sum",
                            },
                            "ReturnData": False,
                        }
                        for key, metric in (("errors", "HTTPCode_Target_5XX_Count"), ("requests", "RequestCount"))
                    ),
                ],
                EvaluationPeriods=3,
                Threshold=5,
                ComparisonOperator="GreaterThanThreshold",
            )
            print(
                f"\n# then: a plain A record of {NEW}, a certificate still pending validation, a health path "
                "answering 500, and a metric-math alarm as a signal"
            )
            failing = [*new_site[: new_site.index("--certificate-arn")], "--certificate-arn", pending]
            show([*failing, "--signal-alarm", "shop-5xx-rate"])

            primary.answer = Answer(200, b"ok")
            print("\n# every deployed site: www's primary is the local one; api's, 192.0.2.20 (nothing answers)")
            show(["preflight"])
    finally:
        server.stop()


if __name__ == "__main__":
    sample()
