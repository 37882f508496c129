"""The README's sample output of `detour preflight`: the tests' local setup (moto's server, the hub and
two site stacks in the zone detour.test, an imported certificate for *.detour.test) and local
primaries on loopback. A new site that passes; the same site behind an ALB with failover signals (an
alarm of its own, the 5xx rate, SignalsToFailOver 2); the same site with the common mistakes (a plain
record of its name, a certificate still pending validation, a health path answering 500, a metric-math
signal alarm, the 5xx rate on a Network Load Balancer), then every deployed site, one of whose
primaries does not answer. The balancers are moto's; a local name server resolves their names to the
local primary, as a recursive resolver resolves them to the balancer. It sets
DETOUR_PREFLIGHT_LOCAL_SETUP=1, as the tests do: only that lets loopback primaries and moto's zone ids through.
Run: PYTHONPATH=.:layers/common .venv/bin/python -m tests.cli.preflight_sample_run"""

from __future__ import annotations

import contextlib
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
from tests.cli.dns_server import AuthoritativeTestServer
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


def balancers() -> dict[str, dict[str, Any]]:
    """An ALB (shop-alb, forwarding to target group shop-web) and an NLB (shop-nlb) in moto, and the two
    dimension values of the ALB's 5xx rate (the ends of its ARN and its target group's)."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    alb, nlb = (
        elbv2.create_load_balancer(Name=name, Subnets=subnets, Type=kind)["LoadBalancers"][0]
        for name, kind in (("shop-alb", "application"), ("shop-nlb", "network"))
    )
    web = elbv2.create_target_group(Name="shop-web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    elbv2.create_listener(
        LoadBalancerArn=alb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": web["TargetGroupArn"]}],
    )
    return {
        "alb": alb,
        "nlb": nlb,
        "dimensions": {
            "load_balancer": alb["LoadBalancerArn"].split(":loadbalancer/", 1)[1],
            "target_group": web["TargetGroupArn"].rsplit(":", 1)[1],
        },
    }


def behind(balancer: dict[str, Any]) -> list[str]:
    return [
        *("--primary-kind", "LoadBalancer", "--primary-target", balancer["DNSName"]),
        *("--primary-hosted-zone-id", balancer["CanonicalHostedZoneId"]),
    ]


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
        with (
            ProbeTarget(Answer(200, b"ok"), tls=self_signed_certificate(folder, NEW)) as primary,
            contextlib.ExitStack() as servers,
        ):
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

            found = balancers()
            cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
            cloudwatch.put_metric_alarm(
                AlarmName="shop-checkout-errors",
                Namespace="Shop",
                MetricName="CheckoutErrors",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=3,
                Threshold=5,
                ComparisonOperator="GreaterThanThreshold",
            )
            names = {found[kind]["DNSName"]: ["127.0.0.1"] for kind in ("alb", "nlb")}
            balancer_dns = servers.enter_context(AuthoritativeTestServer(www.zone_id, names))
            resolver = ["--resolver", balancer_dns.address]
            ipv4 = new_site.index("--primary-kind")
            on_alb = [*new_site[:ipv4], *behind(found["alb"]), *new_site[ipv4 + 4 :]]
            dimensions = found["dimensions"]
            signals = [
                *("--error-rate-signal", "On", "--error-rate-target-group", dimensions["target_group"]),
                *("--error-rate-load-balancer", dimensions["load_balancer"]),
            ]
            print(
                f"\n# {NEW} behind an ALB instead, with failover signals: an alarm of its own, the 5xx rate, "
                "and two failing checks to fail over"
            )
            show(
                [*on_alb, "--signal-alarm", "shop-checkout-errors", *signals, "--signals-to-fail-over", "2", *resolver]
            )

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
                "answering 500, a metric-math alarm as a signal, and the 5xx rate on a Network Load Balancer"
            )
            failing = [
                *new_site[:ipv4],
                *behind(found["nlb"]),
                *new_site[ipv4 + 4 : new_site.index("--certificate-arn")],
            ]
            nlb_rate = [
                *("--error-rate-signal", "On", "--error-rate-target-group", dimensions["target_group"]),
                *("--error-rate-load-balancer", "app/shop-nlb/0123456789abcdef"),
            ]
            show([*failing, "--certificate-arn", pending, "--signal-alarm", "shop-5xx-rate", *nlb_rate, *resolver])

            primary.answer = Answer(200, b"ok")
            print("\n# every deployed site: www's primary is the local one; api's, 192.0.2.20 (nothing answers)")
            show(["preflight"])
    finally:
        server.stop()


if __name__ == "__main__":
    sample()
