"""`detour preflight` against moto's server (Route 53, ACM, CloudFront, ELBv2, CloudWatch) and local
primaries for the probe: each check's pass and fail, the exit codes, --format json, and every
deployed site of the tests' world."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import socket
import ssl
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from detour.incidents.sites import SiteRegistry
from detour_cli.preflight import costs, probe, settings, signals
from detour_cli.preflight.certificate import covers
from detour_cli.preflight.cloudfront import check_cloudfront
from detour_cli.preflight.primary import balancer_region
from detour_cli.preflight.probe import ProbePlan, check_probe
from detour_cli.preflight.result import Status
from detour_cli.preflight.run import signal_alarm_result
from detour_cli.preflight.settings import LOCAL_SETUP_SWITCH, SiteSettings
from tests.cli import world as world_module
from tests.cli.dns_server import AuthoritativeTestServer
from tests.cli.drill_world import self_signed_certificate
from tests.cli.preflight_sample_run import like_site_yaml
from tests.cli.world import OTHER_DOMAIN, World, add_other_site, build_world
from tests.support.probe_servers import (
    Answer,
    ProbeTarget,
    SaturatedListener,
    Trickle,
    body_with,
    imported_certificate,
)

DOMAIN = "www.detour.test"
ZONE = "detour.test"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(autouse=True)
def quick_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Route 53's 4 s, 10 s and 2 s, shortened: the slow tests wait a fraction of a second. And the local
    setup's switch: loopback primaries and moto's zone ids (which do not start with Z) are let through."""
    monkeypatch.setenv(LOCAL_SETUP_SWITCH, "1")
    monkeypatch.setattr(probe, "CONNECT_TIMEOUT_S", 0.4)
    monkeypatch.setattr(probe, "TCP_CONNECT_TIMEOUT_S", 0.6)
    monkeypatch.setattr(probe, "ANSWER_TIMEOUT_S", 0.4)
    monkeypatch.setattr(probe, "BODY_TIMEOUT_S", 0.4)


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path, DOMAIN)  # self-signed: Route 53 (and the probe) validate nothing


@pytest.fixture
def primary(tls_files: tuple[Path, Path]) -> Iterator[ProbeTarget]:
    """The primary, HTTPS on loopback with a self-signed certificate, /health answering 200."""
    with ProbeTarget(Answer(200, b"<html>all good</html>"), tls=tls_files) as target:
        yield target


def new_zone(name: str = ZONE, *, private: bool = False) -> str:
    route53 = boto3.client("route53")
    extra: dict[str, Any] = {}
    if private:
        vpc = boto3.client("ec2", region_name="us-east-1").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        extra = {"HostedZoneConfig": {"PrivateZone": True}, "VPC": {"VPCRegion": "us-east-1", "VPCId": vpc}}
    zone = route53.create_hosted_zone(Name=name, CallerReference=str(uuid.uuid4()), **extra)["HostedZone"]
    return str(zone["Id"].rsplit("/", 1)[-1])


@pytest.fixture
def zone_id(aws: str) -> str:
    return new_zone()


@pytest.fixture
def certificate_arn(aws: str, tmp_path: Path) -> str:
    return imported_certificate(tmp_path / "acm", "*.detour.test")  # ISSUED: imported certificates are


def add_record(zone_id: str, record: dict[str, Any]) -> None:
    boto3.client("route53").change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": record}]}
    )


def flat(text: str) -> str:
    """Text output with its wrapping undone; a command stays on a line of its own, as printed."""
    return re.sub(r"\n {21}(?!aws |sam |curl )", " ", text)


def by_check(document: dict[str, Any], site: int = 0) -> dict[str, dict[str, Any]]:
    return {check["check"]: check for check in document["sites"][site]["checks"]}


class NewSite:
    """`detour preflight --domain ...` for www.detour.test, the local primary and the imported certificate."""

    def __init__(self, run: Any, zone_id: str, certificate_arn: str, primary: ProbeTarget) -> None:
        self.run, self.primary = run, primary
        self.options = {
            "--domain": DOMAIN,
            "--hosted-zone-id": zone_id,
            "--primary-kind": "IPv4",
            "--primary-target": "127.0.0.1",
            "--certificate-arn": certificate_arn,
            "--health-check-port": str(primary.port),
            "--health-check-path": "/health",
        }

    def argv(self, *extra: str, **changes: str) -> list[str]:
        options = {**self.options, **{"--" + k.replace("_", "-"): v for k, v in changes.items()}}
        return ["preflight", *(part for pair in options.items() for part in pair), *extra]

    def text(self, *extra: str, **changes: str) -> tuple[int, str, str]:
        code, out, err = self.run(*self.argv(*extra, **changes))
        return int(code), flat(out), str(err)

    def json(self, *extra: str, **changes: str) -> tuple[int, dict[str, dict[str, Any]]]:
        code, out, err = self.run(*self.argv("--format", "json", *extra, **changes))
        assert err == ""
        document = json.loads(out)
        assert document["exit_code"] == code
        return code, by_check(document)


@pytest.fixture
def new_site(run: Any, zone_id: str, certificate_arn: str, primary: ProbeTarget) -> NewSite:
    return NewSite(run, zone_id, certificate_arn, primary)


# ------------------------------------------------------------------------------------ a good site


def test_a_good_new_site_passes_and_exits_0(new_site: NewSite) -> None:
    code, out, err = new_site.text()

    assert code == 0, out + err
    assert re.search(
        r"PASS\s+hosted-zone\s+hosted zone \S+ \(detour\.test\) is public and holds www\.detour\.test", out
    )
    assert re.search(r"PASS\s+certificate\s+ISSUED in us-east-1, covers www\.detour\.test \(as \*\.detour\.test\)", out)
    assert re.search(r"WARN\s+cloudfront\s+www\.detour\.test is not an alternate name of any distribution", out)
    assert "other accounts' distributions could not be looked at" in out
    assert re.search(r"WARN\s+primary\s+127\.0\.0\.1 is not a public address", out)
    assert f"allowed only because {LOCAL_SETUP_SWITCH}=1" in out
    assert re.search(
        r"PASS\s+probe\s+HTTPS port \d+, GET /health, Host www\.detour\.test:\d+, SNI www\.detour\.test", out
    )
    assert "this proves only that the primary answers this machine" in out
    assert re.search(r"INFO\s+cost\s+\$2\.60 a month", out)
    assert out.rstrip().endswith("0 failed, 2 warnings, 3 passed: nothing fails; read the warnings")


def test_the_probe_sends_what_route53_sends_for_an_elastic_ip(new_site: NewSite) -> None:
    """IPv4: the template's check has IPAddress and FullyQualifiedDomainName = the domain, EnableSNI."""
    new_site.text()

    (seen,) = new_site.primary.seen
    assert seen.path == "/health"
    assert seen.host == f"{DOMAIN}:{new_site.primary.port}"  # not port 443: Route 53 adds the port
    assert seen.sni == DOMAIN


def test_json_lists_every_check_with_status_title_detail_and_fix(new_site: NewSite) -> None:
    code, checks = new_site.json()

    assert code == 0
    assert list(checks) == ["hosted-zone", "certificate", "cloudfront", "primary", "probe", "cost"]
    assert {k: v["status"] for k, v in checks.items()} == {
        "hosted-zone": "pass",
        "certificate": "pass",
        "cloudfront": "warn",
        "primary": "warn",
        "probe": "pass",
        "cost": "info",
    }
    assert checks["hosted-zone"]["fix"] is None
    assert "Elastic IP" in checks["primary"]["fix"]
    assert checks["cost"]["title"] == "$2.60 a month for this site's health check and alarms"
    assert checks["cost"]["data"]["usd_per_month"] == 2.60
    assert {"item": "  + HTTPS", "usd_per_month": 1.0} in checks["cost"]["data"]["items"]


# ------------------------------------------------------------------------------------ hosted zone


def test_a_plain_record_of_the_name_fails_with_the_change_batch_that_deletes_it(
    new_site: NewSite, zone_id: str
) -> None:
    record = {"Name": DOMAIN, "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.44"}]}
    add_record(zone_id, record)

    code, out, _ = new_site.text()

    assert code == 1
    assert re.search(r"FAIL\s+hosted-zone\s+www\.detour\.test already has a plain A record in detour\.test", out)
    assert "www.detour.test A 192.0.2.44 (TTL 300)" in out
    command = next(line.strip() for line in out.splitlines() if "change-resource-record-sets" in line)
    argv = shlex.split(command)
    assert argv[:4] == ["aws", "route53", "change-resource-record-sets", "--hosted-zone-id"]
    batch = json.loads(argv[argv.index("--change-batch") + 1])
    boto3.client("route53").change_resource_record_sets(HostedZoneId=argv[4], ChangeBatch=batch)  # as given

    code, checks = new_site.json()
    assert checks["hosted-zone"]["status"] == "pass"  # the batch deleted exactly that record
    assert code == 0


def test_a_cname_of_the_name_fails_too(new_site: NewSite, zone_id: str) -> None:
    add_record(zone_id, {"Name": DOMAIN, "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "old.example.com"}]})

    code, checks = new_site.json()

    assert code == 1
    assert checks["hosted-zone"]["status"] == "fail"
    assert "plain CNAME record" in checks["hosted-zone"]["title"]
    assert '"Type":"CNAME"' in checks["hosted-zone"]["fix"]


def test_a_failover_pair_already_there_fails_for_a_new_site(new_site: NewSite, zone_id: str) -> None:
    add_record(
        zone_id,
        {
            "Name": DOMAIN,
            "Type": "A",
            "SetIdentifier": "detour-site-www-primary",
            "Failover": "PRIMARY",
            "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.10"}],
        },
    )

    code, checks = new_site.json()

    assert code == 1
    assert "already has failover records" in checks["hosted-zone"]["title"]
    assert "detour site list" in checks["hosted-zone"]["fix"]


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("private", "is private"),
        ("other", "is other.test, which does not hold www.detour.test"),
        ("missing", "no hosted zone ZNOSUCHZONE0 in this account"),
    ],
)
def test_the_zone_must_be_public_and_the_domains(new_site: NewSite, aws: str, zone: str, expected: str) -> None:
    zone_id = {
        "private": lambda: new_zone(private=True),
        "other": lambda: new_zone("other.test"),
        "missing": lambda: "ZNOSUCHZONE0",
    }[zone]()

    code, checks = new_site.json(hosted_zone_id=zone_id)

    assert code == 1
    assert checks["hosted-zone"]["status"] == "fail"
    assert expected in checks["hosted-zone"]["title"]
    assert "list-hosted-zones-by-name" in checks["hosted-zone"]["fix"]


def test_a_delegated_subdomain_fails(run: Any, aws: str, certificate_arn: str, primary: ProbeTarget) -> None:
    zone_id = new_zone()
    add_record(
        zone_id, {"Name": "shop.detour.test", "Type": "NS", "TTL": 300, "ResourceRecords": [{"Value": "ns1.x."}]}
    )
    site = NewSite(run, zone_id, imported_certificate(Path(primary.tls[0]).parent / "w", "*.shop.detour.test"), primary)  # type: ignore[index]

    code, checks = site.json(domain="www.shop.detour.test")

    assert code == 1
    assert "delegates shop.detour.test to other name servers" in checks["hosted-zone"]["title"]


# ------------------------------------------------------------------------------------ certificate


@pytest.mark.parametrize(
    ("name", "domain", "expected"),
    [
        ("www.detour.test", "www.detour.test", True),
        ("*.detour.test", "www.detour.test", True),
        ("*.detour.test", "a.b.detour.test", False),  # a wildcard covers one label
        ("*.detour.test", "detour.test", False),
        ("detour.test", "www.detour.test", False),
        ("WWW.Detour.Test", "www.detour.test", True),
    ],
)
def test_what_a_certificate_name_covers(name: str, domain: str, expected: bool) -> None:
    assert covers(name, domain) is expected


def test_a_certificate_outside_us_east_1_fails(new_site: NewSite) -> None:
    arn = boto3.client("acm", region_name="eu-west-1").request_certificate(DomainName=DOMAIN)["CertificateArn"]

    code, checks = new_site.json(certificate_arn=arn)

    assert code == 1
    assert (
        checks["certificate"]["title"]
        == "the certificate is in eu-west-1: CloudFront uses certificates from us-east-1 only"
    )
    assert (
        "aws acm request-certificate --region us-east-1 --domain-name www.detour.test" in checks["certificate"]["fix"]
    )


def test_a_certificate_pending_validation_fails(new_site: NewSite) -> None:
    acm = boto3.client("acm", region_name="us-east-1")
    arn = acm.request_certificate(DomainName=DOMAIN, ValidationMethod="DNS")["CertificateArn"]

    code, checks = new_site.json(certificate_arn=arn)

    assert code == 1
    assert checks["certificate"]["title"] == "the certificate is PENDING_VALIDATION, not ISSUED"
    assert "DomainValidationOptions" in checks["certificate"]["fix"]


def test_a_certificate_for_other_names_fails(new_site: NewSite, tmp_path: Path) -> None:
    arn = imported_certificate(tmp_path / "other", "*.shop.detour.test")

    code, checks = new_site.json(certificate_arn=arn)

    assert code == 1
    assert checks["certificate"]["title"] == "the certificate does not cover www.detour.test"
    assert checks["certificate"]["detail"] == ["names: *.shop.detour.test"]


def test_a_certificate_not_in_the_account_fails(new_site: NewSite) -> None:
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"

    code, checks = new_site.json(certificate_arn=arn)

    assert code == 1
    assert checks["certificate"]["title"] == f"no certificate {arn} in this account"


# ------------------------------------------------------------------------------------ CloudFront


def distribution(alias: str) -> dict[str, Any]:
    origin = {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}
    config = {
        "CallerReference": str(uuid.uuid4()),
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Comment": "",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [{"Id": "o", "DomainName": "origin.example", "CustomOriginConfig": origin}],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "o",
            "ViewerProtocolPolicy": "allow-all",
            "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        },
    }
    made: dict[str, Any] = boto3.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]
    return made


def test_the_domain_on_another_distribution_fails(new_site: NewSite) -> None:
    taken = distribution(DOMAIN)

    code, checks = new_site.json()

    assert code == 1
    assert checks["cloudfront"]["title"] == (
        f"www.detour.test is an alternate name of distribution {taken['Id']} ({taken['DomainName']}): "
        "CloudFront refuses it on a second one"
    )
    assert f"aws cloudfront get-distribution-config --id {taken['Id']}" in checks["cloudfront"]["fix"]


def test_a_primary_behind_cloudfront_cannot_fail_over_by_dns(new_site: NewSite) -> None:
    code, checks = new_site.json(
        primary_kind="LoadBalancer", primary_target="d3primary.cloudfront.net", primary_hosted_zone_id="Z2FDTNDATAQYW2"
    )

    assert code == 1
    check = checks["cloudfront"]
    assert "is a CloudFront distribution: DNS failover to a second distribution cannot work" in check["title"]
    assert "alternate name on one distribution only" in check["fix"]
    assert "origin group (origin failover)" in check["fix"]
    assert "custom error responses" in check["fix"]


# ------------------------------------------------------------------------------------ the primary


@pytest.fixture
def balancers(aws: str) -> dict[str, dict[str, Any]]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    return {
        scheme: elbv2.create_load_balancer(Name=f"shop-{scheme}", Subnets=subnets, Scheme=scheme)["LoadBalancers"][0]
        for scheme in ("internet-facing", "internal")
    }


@pytest.fixture
def balancer_dns(zone_id: str, balancers: dict[str, dict[str, Any]]) -> Iterator[AuthoritativeTestServer]:
    """Resolves the balancers' names to the local primary, as a recursive resolver would to the ALB."""
    names = {b["DNSName"]: ["127.0.0.1"] for b in balancers.values()}
    with AuthoritativeTestServer(zone_id, names) as server:
        yield server


def test_a_balancer_with_its_own_zone_id_passes_and_is_probed_by_its_name(
    new_site: NewSite, balancers: dict[str, dict[str, Any]], balancer_dns: AuthoritativeTestServer
) -> None:
    alb = balancers["internet-facing"]

    code, checks = new_site.json(
        "--resolver",
        balancer_dns.address,
        primary_kind="LoadBalancer",
        primary_target=alb["DNSName"],
        primary_hosted_zone_id=alb["CanonicalHostedZoneId"],
    )

    assert code == 0
    assert checks["primary"]["status"] == "pass"
    assert checks["primary"]["title"] == (
        f"ALB shop-internet-facing: internet-facing, canonical hosted zone id {alb['CanonicalHostedZoneId']} as given"
    )
    assert checks["probe"]["status"] == "pass"
    (seen,) = new_site.primary.seen  # the balancer's name, not the domain: its health path must answer for it
    assert seen.host == f"{alb['DNSName']}:{new_site.primary.port}"
    assert seen.sni == alb["DNSName"]


def test_a_balancer_with_another_zone_id_fails_with_the_right_one(
    new_site: NewSite, balancers: dict[str, dict[str, Any]], balancer_dns: AuthoritativeTestServer
) -> None:
    alb = balancers["internet-facing"]

    code, checks = new_site.json(
        "--resolver",
        balancer_dns.address,
        primary_kind="LoadBalancer",
        primary_target=alb["DNSName"],
        primary_hosted_zone_id="Z26RNL4JYFTOTI",
    )

    assert code == 1
    assert (
        f"canonical hosted zone id is {alb['CanonicalHostedZoneId']}, not Z26RNL4JYFTOTI" in checks["primary"]["title"]
    )
    assert checks["primary"]["fix"] == (
        f"set PrimaryHostedZoneId={alb['CanonicalHostedZoneId']} "
        f"(--primary-hosted-zone-id {alb['CanonicalHostedZoneId']})"
    )


def test_an_internal_balancer_fails(
    new_site: NewSite, balancers: dict[str, dict[str, Any]], balancer_dns: AuthoritativeTestServer
) -> None:
    internal = balancers["internal"]

    code, checks = new_site.json(
        "--resolver",
        balancer_dns.address,
        primary_kind="LoadBalancer",
        primary_target=internal["DNSName"],
        primary_hosted_zone_id=internal["CanonicalHostedZoneId"],
    )

    assert code == 1
    assert "is internal: Route 53's health checkers" in checks["primary"]["title"]


def test_a_balancer_not_in_elbv2_is_a_warning(new_site: NewSite, balancer_dns: AuthoritativeTestServer) -> None:
    code, checks = new_site.json(
        "--resolver",
        balancer_dns.address,
        primary_kind="LoadBalancer",
        primary_target="classic-1.us-east-1.elb.amazonaws.com",
        primary_hosted_zone_id="Z35SXDOTRQ7X7K",
    )

    assert checks["primary"]["status"] == "warn"
    assert "aws elb describe-load-balancers" in checks["primary"]["fix"]
    assert checks["probe"]["status"] == "fail"  # the name resolves nowhere
    assert "does not resolve to an IPv4 address" in checks["probe"]["title"]
    assert code == 1


def test_an_ipv4_primary_that_is_a_name_fails(new_site: NewSite) -> None:
    code, checks = new_site.json(primary_target="shop-1.us-east-1.elb.amazonaws.com")

    assert code == 1
    assert checks["primary"]["title"].endswith("is not an IPv4 address: PrimaryKind IPv4 takes the Elastic IP")


def test_the_failover_name_as_the_primary_fails(new_site: NewSite, zone_id: str) -> None:
    code, checks = new_site.json(
        primary_kind="LoadBalancer", primary_target=DOMAIN, primary_hosted_zone_id="Z35SXDOTRQ7X7K"
    )

    assert code == 1
    assert checks["primary"]["title"].startswith("the primary www.detour.test is the failover name itself")


def test_a_primary_name_that_points_at_the_failover_name_fails(new_site: NewSite, zone_id: str) -> None:
    add_record(
        zone_id, {"Name": "origin.detour.test", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": DOMAIN}]}
    )

    code, checks = new_site.json(
        primary_kind="LoadBalancer", primary_target="origin.detour.test", primary_hosted_zone_id="Z35SXDOTRQ7X7K"
    )

    assert code == 1
    assert "a CNAME record pointing at www.detour.test, the failover name" in checks["primary"]["title"]


# ------------------------------------------------------------------------------------ the probe


def https_check(port: int, *, protocol: str = "HTTPS", search: str = "") -> dict[str, Any]:
    """A HealthCheckConfig as sites/site.yaml makes it for an Elastic IP primary."""
    config: dict[str, Any] = {
        "Type": protocol,
        "IPAddress": "127.0.0.1",
        "FullyQualifiedDomainName": DOMAIN,
        "Port": port,
        "ResourcePath": "/health",
        "RequestInterval": 10,
        "EnableSNI": protocol.startswith("HTTPS"),
    }
    if search:
        config["SearchString"] = search
    return config


def no_resolver(name: str) -> tuple[str, ...]:
    raise AssertionError(f"an IPAddress check resolves nothing, yet {name} was looked up")


def test_probe_a_slow_connect_fails_with_the_firewall_fix() -> None:
    with SaturatedListener() as listener:
        result = check_probe(https_check(listener.port), no_resolver)

    assert result.status is Status.FAIL
    assert result.title.endswith("no TCP connection within 0.4 s")
    assert "ROUTE53_HEALTHCHECKS ranges in https://ip-ranges.amazonaws.com/ip-ranges.json" in result.fix
    assert "make /health answer 2xx/3xx within 0.4 s for Host www.detour.test:" in result.fix


def test_probe_a_refused_connection_fails() -> None:
    with ProbeTarget() as target:
        port = target.port  # closed again when the block ends

    result = check_probe(https_check(port), no_resolver)

    assert result.status is Status.FAIL
    assert "TCP connection failed" in result.title


def test_probe_a_slow_first_byte_fails(tls_files: tuple[Path, Path]) -> None:
    with ProbeTarget(Answer(200, delay_s=0.8), tls=tls_files) as target:
        result = check_probe(https_check(target.port), no_resolver)

    assert result.status is Status.FAIL
    assert re.search(r"connected in \d+ ms, but no status within 0\.4 s", result.title)
    assert any("to see it yourself:\ncurl -ksS" in line for line in result.detail)


def test_probe_a_first_byte_within_the_limit_passes(tls_files: tuple[Path, Path]) -> None:
    with ProbeTarget(Answer(200, delay_s=0.1), tls=tls_files) as target:
        result = check_probe(https_check(target.port), no_resolver)

    assert result.status is Status.PASS


def test_probe_a_500_fails(tls_files: tuple[Path, Path]) -> None:
    with ProbeTarget(Answer(500, b"boom"), tls=tls_files) as target:
        result = check_probe(https_check(target.port), no_resolver)

    assert result.status is Status.FAIL
    assert re.search(r"answered 500 Internal Server Error in \d+ ms: Route 53 wants 2xx or 3xx", result.title)


def test_probe_a_redirect_is_healthy_and_not_followed(tls_files: tuple[Path, Path]) -> None:
    with ProbeTarget(Answer(301, b"", location="/elsewhere"), tls=tls_files) as target:
        result = check_probe(https_check(target.port), no_resolver)
        seen = [s.path for s in target.seen]

    assert result.status is Status.PASS
    assert "answered 301 Moved Permanently" in result.title
    assert seen == ["/health"]


def test_probe_plain_http_sends_the_domain_as_host_without_sni() -> None:
    with ProbeTarget(Answer(204, b"")) as target:
        result = check_probe(https_check(target.port, protocol="HTTP"), no_resolver)
        (seen,) = target.seen

    assert result.status is Status.PASS
    assert seen.host == f"{DOMAIN}:{target.port}"


def test_host_header_leaves_out_the_default_port() -> None:
    assert ProbePlan.from_config({**https_check(443)}).host_header == DOMAIN
    assert ProbePlan.from_config({**https_check(80, protocol="HTTP")}).host_header == DOMAIN
    assert ProbePlan.from_config({**https_check(443, protocol="HTTP")}).host_header == f"{DOMAIN}:443"


def test_probe_the_search_string_beyond_5120_bytes_fails(tls_files: tuple[Path, Path]) -> None:
    with ProbeTarget(Answer(200, body_with("ALL-OK", at=5120 - 3)), tls=tls_files) as target:  # straddles the end
        result = check_probe(https_check(target.port, protocol="HTTPS_STR_MATCH", search="ALL-OK"), no_resolver)

    assert result.status is Status.FAIL
    assert "'ALL-OK' starts at byte 5,117: beyond the first 5,120" in result.title
    assert result.fix.startswith("make /health put 'ALL-OK' within the first 5,120 bytes of its body")


def test_probe_the_search_string_within_5120_bytes_passes(tls_files: tuple[Path, Path]) -> None:
    with ProbeTarget(Answer(200, body_with("ALL-OK", at=5120 - 6)), tls=tls_files) as target:  # ends at the limit
        result = check_probe(https_check(target.port, protocol="HTTPS_STR_MATCH", search="ALL-OK"), no_resolver)

    assert result.status is Status.PASS
    assert "'ALL-OK' at byte 5,114" in result.title


def test_probe_a_search_string_missing_fails() -> None:
    with ProbeTarget(Answer(200, b"nothing here")) as target:
        result = check_probe(https_check(target.port, protocol="HTTP_STR_MATCH", search="ALL-OK"), no_resolver)

    assert result.status is Status.FAIL
    assert "'ALL-OK' is not in the first 5,120 bytes" in result.title


def test_probe_tcp_only_connects() -> None:
    with ProbeTarget() as target:
        result = check_probe({"Type": "TCP", "IPAddress": "127.0.0.1", "Port": target.port}, no_resolver)
        seen = list(target.seen)

    assert result.status is Status.PASS
    assert seen == []


def test_probe_https_against_plain_http_fails_the_handshake() -> None:
    with ProbeTarget(Answer(200)) as target:
        result = check_probe(https_check(target.port), no_resolver)

    assert result.status is Status.FAIL
    assert "TLS handshake failed" in result.title


def test_the_new_site_probe_failure_fails_the_run(new_site: NewSite) -> None:
    new_site.primary.answer = Answer(503, b"down")

    code, out, _ = new_site.text()

    assert code == 1
    assert re.search(r"FAIL\s+probe\s+HTTPS port \d+, GET /health", out)
    assert "fix: allow Route 53's health checkers (ROUTE53_HEALTHCHECKS ranges" in out


# ------------------------------------------------------------------------------------ signal alarms


@pytest.fixture
def signal_alarms(aws: str) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    common = {"EvaluationPeriods": 3, "Threshold": 5, "ComparisonOperator": "GreaterThanThreshold"}
    metric = {"Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count"}
    cloudwatch.put_metric_alarm(AlarmName="shop-5xx", Statistic="Sum", Period=60, **metric, **common)
    cloudwatch.put_metric_alarm(AlarmName="shop-p99", ExtendedStatistic="p99", Period=60, **metric, **common)
    cloudwatch.put_metric_alarm(AlarmName="shop-fast", Statistic="Sum", Period=10, **metric, **common)
    stat = {"Period": 60, "Stat": "Sum"}
    cloudwatch.put_metric_alarm(
        AlarmName="shop-rate",
        Metrics=[
            {"Id": "rate", "Expression": "errors / requests", "ReturnData": True},
            {"Id": "errors", "MetricStat": {"Metric": metric, **stat}, "ReturnData": False},
            {
                "Id": "requests",
                "MetricStat": {"Metric": {**metric, "MetricName": "RequestCount"}, **stat},
                "ReturnData": False,
            },
        ],
        **common,
    )


@pytest.mark.usefixtures("signal_alarms")
def test_signal_alarms_route53_can_use_pass_and_the_others_fail(new_site: NewSite) -> None:
    code, checks = new_site.json(
        *("--signal-alarm", "shop-5xx", "--signal-alarm", "shop-p99", "--signal-alarm", "shop-fast")
    )

    assert code == 1
    assert checks["signal-alarm:shop-5xx"]["status"] == "pass"
    assert checks["signal-alarm:shop-5xx"]["title"] == (
        "alarm shop-5xx: Sum of AWS/ApplicationELB HTTPCode_Target_5XX_Count over 60 s, standard resolution, "
        "in us-east-1: usable by a health check"
    )
    assert "p99 is an extended statistic" in checks["signal-alarm:shop-p99"]["title"]
    assert "its period is 10 s: a high-resolution alarm" in checks["signal-alarm:shop-fast"]["title"]
    assert checks["signal-alarm:shop-p99"]["status"] == checks["signal-alarm:shop-fast"]["status"] == "fail"

    code, checks = new_site.json(
        *("--signal-alarm", "shop-rate", "--signal-alarm", "shop-nope"),
        *("--signal-alarm", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-eu"),
    )

    assert code == 1
    assert "it is a metric-math alarm" in checks["signal-alarm:shop-rate"]["title"]
    assert checks["signal-alarm:shop-nope"]["title"] == "no alarm shop-nope in us-east-1"
    assert checks["signal-alarm:shop-eu"]["title"].startswith("alarm shop-eu is in eu-west-1")
    assert all(checks[f"signal-alarm:{n}"]["status"] == "fail" for n in ("shop-rate", "shop-nope", "shop-eu"))


def test_at_most_three_signal_alarms(new_site: NewSite) -> None:
    code, _, err = new_site.text(*(part for n in range(4) for part in ("--signal-alarm", f"shop-{n}")))

    assert code == 2
    assert "--signal-alarm: at most 3 (SignalAlarm1 to SignalAlarm3), not 4" in err


def test_a_composite_alarm_cannot_be_a_signal() -> None:
    """(moto has no PutCompositeAlarm: CloudWatch's answer for one, as DescribeAlarms gives it.)"""

    class Composite:
        def describe_alarms(self, **kwargs: Any) -> dict[str, Any]:
            assert kwargs == {"AlarmNames": ["shop-any"], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
            return {"MetricAlarms": [], "CompositeAlarms": [{"AlarmName": "shop-any"}]}

    result = signal_alarm_result(Composite(), "shop-any", "detour")

    assert result.status == Status.FAIL
    assert result.title == "shop-any is a composite alarm: a Route 53 health check takes one metric alarm"


@pytest.mark.usefixtures("signal_alarms")
def test_detours_own_alarms_cannot_be_signals(new_site: NewSite) -> None:
    """A site's primary-health alarm watches the check its signals feed: as a signal the site would hold itself
    failed over. Refused by its hub prefix, whatever the alarm."""
    own = "detour/detour-site-shop/primary-health"
    code, checks = new_site.json("--signal-alarm", own, "--signal-alarm", "shop-5xx")

    assert code == 1
    assert checks[f"signal-alarm:{own}"]["status"] == "fail"
    assert "is one of Detour's own alarms (hub detour)" in checks[f"signal-alarm:{own}"]["title"]
    assert "--error-rate-signal On" in checks[f"signal-alarm:{own}"]["fix"]
    assert checks["signal-alarm:shop-5xx"]["status"] == "pass"


@pytest.mark.usefixtures("signal_alarms")
def test_signals_each_add_a_health_check_to_the_cost_which_says_what_it_cannot_price(new_site: NewSite) -> None:
    """Each signal adds an alarm-backed health check and a calculated one combines them with the endpoint's:
    itemised, without a price Detour has not checked (and out of the total); the alarm itself exists already."""
    code, checks = new_site.json("--signal-alarm", "shop-5xx")

    assert code == 0
    cost = checks["cost"]
    assert cost["title"] == (
        "$2.60 a month for this site's health checks and alarms, plus 2 item(s) not priced here "
        "(check the AWS price page)"
    )
    assert cost["data"]["usd_per_month"] == 2.60
    unpriced = {"usd_per_month": None, "price": "check the AWS price page"}
    assert {"item": "health check on alarm shop-5xx (alarm-backed)", **unpriced} in cost["data"]["items"]
    assert {"item": "calculated health check over the 2 checks (FailoverCheck)", **unpriced} in cost["data"]["items"]
    assert cost["data"]["not_priced"] == [
        "health check on alarm shop-5xx (alarm-backed)",
        "calculated health check over the 2 checks (FailoverCheck)",
    ]
    assert "the signal alarms themselves are billed already, whether Detour uses them or not" in cost["detail"]


def test_the_error_rate_adds_its_alarm_metric_and_checks_to_the_cost() -> None:
    plan = signals.SignalPlan.from_parameters(
        settings.defaults() | {"SignalAlarm1": "shop-5xx", "ErrorRateSignal": "On"}
    )
    result = costs.check_cost({"Type": "HTTPS", "RequestInterval": 10}, "LoadBalancer", plan)

    assert result.data is not None
    items = {item["item"]: item["usd_per_month"] for item in result.data["items"]}
    assert items["CloudWatch alarm on the 5xx rate (standard resolution)"] == costs.STANDARD_ALARM
    for unpriced in (
        "health check on alarm shop-5xx (alarm-backed)",
        "health check on the 5xx rate alarm (alarm-backed)",
        "custom metric Detour/TargetErrorRate (one value a minute)",
        "GetMetricData (3 metrics a minute) and PutMetricData for it, by the hub",
        "calculated health check over the 3 checks (FailoverCheck)",
    ):
        assert items[unpriced] is None
    assert result.data["usd_per_month"] == 2.70  # the defaults' 2.60 and the alarm
    assert result.title.startswith("$2.70 a month for this site's health checks and alarms, plus 5 item(s)")
    assert "not priced here, so not in the total (check the AWS price page):" in result.detail
    assert "  calculated health check over the 3 checks (FailoverCheck)" in result.detail
    assert any(line.startswith("CloudWatch alarm on the 5xx rate (standard resolution)  ") for line in result.detail)


def test_without_signals_the_cost_is_unchanged() -> None:
    plan = signals.SignalPlan.from_parameters(settings.defaults())
    result = costs.check_cost({"Type": "HTTPS", "RequestInterval": 10}, "LoadBalancer", plan)

    assert result.title == "$2.60 a month for this site's health check and alarms"
    assert result.data is not None
    assert result.data["not_priced"] == []


# ------------------------------------------------------------------------------------ SignalsToFailOver


@pytest.mark.usefixtures("signal_alarms")
def test_any_check_failing_over_passes_and_names_every_check(new_site: NewSite) -> None:
    code, checks = new_site.json("--signal-alarm", "shop-5xx")

    assert code == 0
    assert checks["signals"]["status"] == "pass"
    assert checks["signals"]["title"] == (
        "any of the site's 2 checks fails it over (the endpoint probe, alarm shop-5xx); an alarm-backed check "
        "without data reports LastKnownStatus"
    )


@pytest.mark.usefixtures("signal_alarms")
def test_more_than_one_check_to_fail_over_warns_that_the_probe_alone_no_longer_does(new_site: NewSite) -> None:
    code, checks = new_site.json("--signal-alarm", "shop-5xx", "--signals-to-fail-over", "2")

    assert code == 0  # a warning
    assert checks["signals"]["status"] == "warn"
    assert "the endpoint probe alone no longer fails it over" in checks["signals"]["title"]
    assert "--signals-to-fail-over 1" in checks["signals"]["fix"]


def test_no_signals_no_signals_check(new_site: NewSite) -> None:
    _, checks = new_site.json()
    assert "signals" not in checks
    assert "error-rate" not in checks


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--signals-to-fail-over", "2"], "SignalsToFailOver 2 needs at least 2 checks"),
        (["--signal-alarm", "a", "--signals-to-fail-over", "3"], "SignalsToFailOver 3 needs at least 3 checks"),
        (["--error-rate-signal", "On"], "ErrorRateSignal On needs PrimaryKind LoadBalancer"),
        (["--signal-alarm", "a", "--signal-alarm", "a"], "SignalAlarm2 names the same alarm as SignalAlarm1"),
        (["--error-rate-target-group", "tg-1"], "--error-rate-target-group 'tg-1': must be targetgroup/"),
        (["--signal-alarm", "a\tb"], "--signal-alarm 'a\\tb': must be an alarm's name"),
        (["--signals-to-fail-over", "6"], "invalid choice: '6'"),
    ],
)
def test_signal_settings_the_template_refuses_exit_2(new_site: NewSite, extra: list[str], message: str) -> None:
    code, _, err = new_site.text(*extra)

    assert code == 2
    assert message in err


def test_the_signal_options_are_named_after_the_parameters_with_their_defaults(run: Any) -> None:
    code, out, _ = run("preflight", "--help")

    assert code == 0
    for option in (
        "--error-rate-signal ErrorRateSignal",
        "--error-rate-target-group ErrorRateTargetGroup",
        "--error-rate-load-balancer ErrorRateLoadBalancer",
        "--error-rate-percent ErrorRatePercent",
        "--error-rate-minutes ErrorRateMinutes",
        "--error-rate-min-requests ErrorRateMinRequests",
        "--signals-to-fail-over SignalsToFailOver",
        "--signal-insufficient-data SignalInsufficientData",
    ):
        assert option in " ".join(out.split()), option
    assert "(default: Off)" in out
    assert "(default: LastKnownStatus)" in out


# ------------------------------------------------------------------------------------ the 5xx-rate signal


@pytest.fixture
def alb_with_target_groups(balancers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The internet-facing ALB, forwarding to target group shop-web (shop-other belongs to no balancer)."""
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    alb = balancers["internet-facing"]
    vpc = alb["VpcId"]
    web, other = (
        elbv2.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
        for name in ("shop-web", "shop-other")
    )
    elbv2.create_listener(
        LoadBalancerArn=alb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": web["TargetGroupArn"]}],
    )
    return {
        "alb": alb,
        "load_balancer": alb["LoadBalancerArn"].split(":loadbalancer/", 1)[1],
        "target_group": web["TargetGroupArn"].rsplit(":", 1)[1],
        "other_group": other["TargetGroupArn"].rsplit(":", 1)[1],
    }


def error_rate_plan(load_balancer: str, target_group: str) -> signals.SignalPlan:
    return signals.SignalPlan.from_parameters(
        settings.defaults()
        | {"ErrorRateSignal": "On", "ErrorRateLoadBalancer": load_balancer, "ErrorRateTargetGroup": target_group}
    )


def test_the_error_rate_of_the_primarys_own_alb_and_target_group_passes(
    new_site: NewSite, alb_with_target_groups: dict[str, Any], balancer_dns: AuthoritativeTestServer
) -> None:
    found = alb_with_target_groups
    alb = found["alb"]

    code, checks = new_site.json(
        "--resolver",
        balancer_dns.address,
        *("--error-rate-signal", "On", "--error-rate-load-balancer", found["load_balancer"]),
        *("--error-rate-target-group", found["target_group"], "--error-rate-minutes", "4"),
        primary_kind="LoadBalancer",
        primary_target=alb["DNSName"],
        primary_hosted_zone_id=alb["CanonicalHostedZoneId"],
    )

    assert code == 0
    check = checks["error-rate"]
    assert check["status"] == "pass"
    assert check["title"] == (
        f"ALB shop-internet-facing, target group {found['target_group']}: the hub's error_rate function reads the "
        "group's HTTPCode_Target_5XX_Count and the balancer's HTTPCode_ELB_5XX_Count over the balancer's "
        "RequestCount in us-east-1; the signal fails above 5 % for 4 minutes (a minute under 20 requests counts "
        "as 0 %)"
    )
    assert checks["signals"]["title"].startswith(
        "any of the site's 2 checks fails it over (the endpoint probe, the 5xx"
    )
    assert checks["cost"]["data"]["usd_per_month"] == 2.70


def test_the_error_rate_of_another_target_group_or_balancer_fails_with_the_right_one(
    aws: str, alb_with_target_groups: dict[str, Any]
) -> None:
    found = alb_with_target_groups
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    target = found["alb"]["DNSName"]

    other = signals.check_error_rate(
        elbv2, error_rate_plan(found["load_balancer"], found["other_group"]), "LoadBalancer", target
    )
    assert other.status == Status.FAIL
    assert other.title == f"target group {found['other_group']} is not one of ALB shop-internet-facing's"
    assert found["target_group"] in other.fix

    wrong = "app/shop-other/0123456789abcdef"
    balancer = signals.check_error_rate(elbv2, error_rate_plan(wrong, found["target_group"]), "LoadBalancer", target)
    assert balancer.status == Status.FAIL
    assert balancer.fix == (
        f"set ErrorRateLoadBalancer={found['load_balancer']} (--error-rate-load-balancer {found['load_balancer']})"
    )


def test_the_error_rate_of_a_network_load_balancer_fails(aws: str, balancers: dict[str, dict[str, Any]]) -> None:
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    subnets = [zone["SubnetId"] for zone in balancers["internet-facing"]["AvailabilityZones"]]
    nlb = elbv2.create_load_balancer(Name="shop-nlb", Subnets=subnets, Type="network")["LoadBalancers"][0]
    plan = error_rate_plan("app/shop-nlb/0123456789abcdef", "targetgroup/shop-web/0123456789abcdef")

    result = signals.check_error_rate(elbv2, plan, "LoadBalancer", nlb["DNSName"])
    assert result.status == Status.FAIL
    assert result.title.startswith("load balancer shop-nlb is an NLB: the 5xx-rate signal reads HTTP codes")

    by_name = signals.check_error_rate(elbv2, plan, "LoadBalancer", "shop-nlb-0123.elb.us-east-1.amazonaws.com")
    assert by_name.status == Status.FAIL
    assert "is a Network Load Balancer's name" in by_name.title


def test_the_error_rate_of_a_balancer_in_another_region_fails(aws: str) -> None:
    elbv2 = boto3.client("elbv2", region_name="eu-west-1")
    plan = error_rate_plan("app/shop-alb/0123456789abcdef", "targetgroup/shop-web/0123456789abcdef")

    result = signals.check_error_rate(elbv2, plan, "LoadBalancer", "shop-alb-1.eu-west-1.elb.amazonaws.com")
    assert result.status == Status.FAIL
    assert "is in eu-west-1: its AWS/ApplicationELB metrics are there" in result.title


def test_the_error_rate_of_a_balancer_elbv2_cannot_see_is_a_warning(aws: str) -> None:
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    plan = error_rate_plan("app/shop-alb/0123456789abcdef", "targetgroup/shop-web/0123456789abcdef")

    result = signals.check_error_rate(elbv2, plan, "LoadBalancer", "shop-alb-1.us-east-1.elb.amazonaws.com")
    assert result.status == Status.WARN
    assert "are not checked against it" in result.title
    assert "aws elbv2 describe-target-groups" in result.fix


# ------------------------------------------------------------------------------------ signals in a config file


@pytest.mark.usefixtures("signal_alarms")
def test_a_config_files_signal_alarms_are_checked_and_priced(
    run: Any, tmp_path: Path, zone_id: str, certificate_arn: str, primary: ProbeTarget
) -> None:
    overrides = [
        f"DomainName={DOMAIN}",
        f"HostedZoneId={zone_id}",
        "PrimaryKind=IPv4",
        "PrimaryTarget=127.0.0.1",
        f"HealthCheckPort={primary.port}",
        "HealthCheckPath=/health",
        f"CertificateArn={certificate_arn}",
        "SignalAlarm1=shop-5xx",
        "SignalAlarm2=shop-p99",
        "SignalsToFailOver=2",
    ]
    path = tmp_path / "shop.toml"
    path.write_text(
        'version = 0.1\n\n[default.deploy.parameters]\ntemplate_file = "sites/site.yaml"\n'
        'stack_name = "detour-site-shop"\nregion = "us-east-1"\n'
        f"parameter_overrides = {json.dumps(overrides)}\n"
    )

    code, out, _ = run("preflight", "--config-file", str(path), "--format", "json")
    checks = by_check(json.loads(out))

    assert code == 1  # shop-p99 is a percentile
    assert checks["signal-alarm:shop-5xx"]["status"] == "pass"
    assert checks["signal-alarm:shop-p99"]["status"] == "fail"
    assert checks["signals"]["status"] == "warn"
    assert "calculated health check over the 3 checks (FailoverCheck)" in checks["cost"]["data"]["not_priced"]

    # --signal-alarm replaces the file's alarms
    code, out, _ = run("preflight", "--config-file", str(path), "--signal-alarm", "shop-5xx", "--format", "json")
    checks = by_check(json.loads(out))
    assert code == 0  # SignalsToFailOver 2 of 2 checks: the probe and shop-5xx (a warning)
    assert [name for name in checks if name.startswith("signal-alarm:")] == ["signal-alarm:shop-5xx"]
    assert "calculated health check over the 2 checks (FailoverCheck)" in checks["cost"]["data"]["not_priced"]


# ------------------------------------------------------------------------------------ cost


@pytest.mark.parametrize(
    ("config", "kind", "expected"),
    [
        ({"Type": "HTTPS", "RequestInterval": 10}, "LoadBalancer", 2.60),  # the defaults: README's figure
        ({"Type": "HTTPS_STR_MATCH", "RequestInterval": 10}, "IPv4", 3.60),
        ({"Type": "HTTP", "RequestInterval": 30}, "IPv4", 0.60),
        ({"Type": "TCP", "RequestInterval": 30, "MeasureLatency": True}, "LoadBalancer", 1.60),
    ],
)
def test_the_monthly_cost_item_by_item(config: dict[str, Any], kind: str, expected: float) -> None:
    assert costs.total(costs.items(config, kind)) == expected


def test_the_cost_agrees_with_the_readme() -> None:
    """The README's figures, read from it, against costs.items: a price changed in one breaks this."""
    readme = README.read_text()
    what_it_costs = " ".join(readme[readme.index("## What it costs") :].split())
    found = re.search(
        r"about \*\*\$(\d+\.\d\d) per site\*\* with the defaults \(\$(\d+\.\d\d) with string matching, "
        r"\$(\d+\.\d\d) for plain HTTP at",
        what_it_costs,
    )
    assert found, "the README's cost sentence moved or changed its form"
    defaults, string_matching, plain_http = (float(figure) for figure in found.groups())
    assert costs.total(costs.items({"Type": "HTTPS", "RequestInterval": 10}, "LoadBalancer")) == defaults
    assert costs.total(costs.items({"Type": "HTTPS_STR_MATCH", "RequestInterval": 10}, "LoadBalancer")) == (
        string_matching
    )
    assert costs.total(costs.items({"Type": "HTTP", "RequestInterval": 30}, "LoadBalancer")) == plain_http
    assert "us-east-1 list prices, checked 2026-11" in costs.PRICES_AS_OF


# ------------------------------------------------------------------------------------ usage (exit 2)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--domain", DOMAIN, "--hosted-zone-id", "Z1"],
            "a site not yet added needs --primary-target, --certificate-arn",
        ),
        (["--primary-target", "192.0.2.1"], "--primary-target describe a site not yet added: give --domain too"),
        (["--domain", DOMAIN, "--site", "www"], "give one of them"),
        (["--primary-kind", "EC2"], "invalid choice: 'EC2'"),
    ],
)
def test_usage_errors_exit_2(run: Any, argv: list[str], message: str) -> None:
    code, out, err = run("preflight", *argv)

    assert code == 2
    assert message in err
    assert out == ""


def test_values_the_template_refuses_exit_2(new_site: NewSite) -> None:
    code, _, err = new_site.text(domain="WWW.detour.test", health_check_path="health")

    assert code == 2
    assert "--domain 'WWW.detour.test': must be a lower-case fully qualified domain name" in err
    assert "--health-check-path 'health': must be" in err


def test_the_template_rules_exit_2(new_site: NewSite) -> None:
    code, _, err = new_site.text(primary_kind="LoadBalancer", primary_target="x-1.us-east-1.elb.amazonaws.com")
    assert code == 2
    assert "PrimaryKind LoadBalancer needs PrimaryHostedZoneId" in err

    code, _, err = new_site.text(health_check_protocol="HTTP_STR_MATCH")
    assert code == 2
    assert "The _STR_MATCH health-check protocols need HealthCheckSearchString." in err


def test_the_defaults_are_the_templates(run: Any) -> None:
    code, out, _ = run("preflight", "--help")

    assert code == 0
    assert "(default: HTTPS)" in out
    assert "(default: 443)" in out
    assert "(default: LoadBalancer)" in out


def test_an_aws_error_exits_2(run: Any, aws: str) -> None:
    code, _, err = run("preflight", "--stack", "no-such-hub")

    assert code == 2
    assert "no stack no-such-hub here" in err


# ------------------------------------------------------------------------------------ deployed sites


@dataclasses.dataclass
class Deployed:
    primary: ProbeTarget
    www: World
    api: World


@pytest.fixture
def deployed(
    monkeypatch: pytest.MonkeyPatch, certificate_arn: str, incidents_table: Any, tls_files: tuple[Path, Path]
) -> Iterator[Deployed]:
    """Two sites made as sites/site.yaml makes them (tests.cli.world's stacks with the template's health
    check endpoint and set identifiers): www's primary the local one on loopback, api's 192.0.2.20, where
    nothing answers; www's registry item names a real distribution that holds its domain."""
    with ProbeTarget(Answer(200, b"ok"), tls=tls_files) as target:
        made = like_site_yaml(world_module.stack_template, certificate_arn, target.port)
        monkeypatch.setattr(world_module, "stack_template", made)
        www = build_world(incidents_table.name, primary_target="127.0.0.1")
        api = add_other_site(www)
        own = distribution(www.domain)
        registry = SiteRegistry(www.table_name, boto3.client("dynamodb"))
        (site,) = [s for s in registry.all() if s.domain == www.domain]
        registry.put(dataclasses.replace(site, distribution_id=own["Id"]))
        yield Deployed(target, www, api)


def test_every_deployed_site_is_checked_from_its_stack_and_health_check(run: Any, deployed: Deployed) -> None:
    code, out, err = run("preflight", "--format", "json")

    assert code == 1, err
    document = json.loads(out)
    assert [s["domain"] for s in document["sites"]] == sorted([DOMAIN, OTHER_DOMAIN])
    sites = {s["domain"]: by_check(document, i) for i, s in enumerate(document["sites"])}
    www, api = sites[DOMAIN], sites[OTHER_DOMAIN]
    # Its own failover pair and its own distribution are not in its way.
    assert www["hosted-zone"]["status"] == "pass"
    assert (
        "only its failover pair (detour-site-www-maintenance, detour-site-www-primary)" in www["hosted-zone"]["title"]
    )
    assert www["health-check"]["status"] == "pass"
    assert www["cloudfront"]["status"] == "warn"  # moto has no ListConflictingAliases: this account only
    assert "alternate name of its own maintenance distribution only" in www["cloudfront"]["title"]
    assert "ListConflictingAliases" in www["cloudfront"]["title"]
    # The probe follows the deployed health check (port, path), not the template's defaults.
    assert www["probe"]["status"] == "pass"
    assert [s.path for s in deployed.primary.seen] == ["/health"]
    assert api["probe"]["status"] == "fail"
    assert "192.0.2.20" in api["probe"]["fix"]
    assert www["certificate"]["title"] == "ISSUED in us-east-1, covers www.detour.test (as *.detour.test)"
    assert document["sites"][1]["worst"] == "warn"  # www: the loopback primary's and CloudFront's warnings


def test_one_deployed_site_with_site(run: Any, deployed: Deployed) -> None:
    code, out, _ = run("preflight", "--site", "www.detour.test")
    out = flat(out)

    assert code == 0
    assert out.startswith("preflight: www.detour.test (deployed as stack detour-site-www): zone ")
    assert "api.detour.test" not in out
    assert re.search(r"PASS\s+probe\s+HTTPS port \d+, GET /health, Host www\.detour\.test:\d+: answered 200 OK", out)


@pytest.mark.usefixtures("signal_alarms")
def test_signal_alarms_for_one_deployed_site_are_checked_and_priced_as_its_slots(run: Any, deployed: Deployed) -> None:
    code, out, _ = run("preflight", "--site", "www.detour.test", "--signal-alarm", "shop-5xx", "--format", "json")
    checks = by_check(json.loads(out))

    assert code == 0
    assert checks["signal-alarm:shop-5xx"]["status"] == "pass"
    assert checks["signals"]["status"] == "pass"
    assert checks["cost"]["data"]["not_priced"] == [
        "health check on alarm shop-5xx (alarm-backed)",
        "calculated health check over the 2 checks (FailoverCheck)",
    ]


def test_a_deployed_site_whose_stack_is_gone_exits_2(run: Any, deployed: Deployed) -> None:
    boto3.client("cloudformation").delete_stack(StackName="detour-site-api")

    code, out, _ = run("preflight")

    assert code == 2
    assert "preflight: api.detour.test" in out
    assert "ERROR no stack detour-site-api here" in out
    assert "1 could not be checked" in out


def test_signal_alarm_needs_one_site(run: Any, deployed: Deployed) -> None:
    code, _, err = run("preflight", "--signal-alarm", "shop-5xx")

    assert code == 2
    assert "--signal-alarm belongs to one site: name it with --site" in err


# ------------------------------------------------------------------------------------ review fixes


@pytest.mark.parametrize("address", ["10.0.0.5", "127.0.0.1", "169.254.1.1", "192.0.2.10", "224.0.0.9", "0.0.0.0"])  # noqa: S104 - an address, not a bind
def test_a_non_public_ipv4_primary_fails_without_the_local_switch(
    new_site: NewSite, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    monkeypatch.delenv(LOCAL_SETUP_SWITCH)

    _, checks = new_site.json(primary_target=address)

    assert checks["primary"]["status"] == "fail"
    assert "Route 53's health checkers cannot check it" in checks["primary"]["title"]


def test_a_moto_zone_id_fails_the_templates_pattern_without_the_local_switch(
    new_site: NewSite, monkeypatch: pytest.MonkeyPatch, zone_id: str
) -> None:
    monkeypatch.delenv(LOCAL_SETUP_SWITCH)

    code, checks = new_site.json(hosted_zone_id="zone-1")
    assert code == 1  # a failed check with a fix, not a usage error
    assert "'zone-1' is not a hosted zone id: sites/site.yaml takes ^Z[A-Z0-9]{1,31}$" in checks["hosted-zone"]["title"]
    assert "list-hosted-zones-by-name" in checks["hosted-zone"]["fix"]

    monkeypatch.setenv(LOCAL_SETUP_SWITCH, "1")
    _, checks = new_site.json(hosted_zone_id="zone-1")
    assert "is not a hosted zone id" in checks["hosted-zone"]["title"]  # the switch admits moto's form only
    _, checks = new_site.json()
    assert checks["hosted-zone"]["status"] == "pass"


def test_a_tls_13_only_primary_fails_naming_the_protocol(tls_files: tuple[Path, Path]) -> None:
    with ProbeTarget(Answer(200), tls=tls_files, tls_minimum=ssl.TLSVersion.TLSv1_3) as target:
        result = check_probe(https_check(target.port), no_resolver)

    assert result.status is Status.FAIL
    assert "Route 53 offers TLS 1.0, 1.1 and 1.2 only" in result.title
    assert "TLS 1.3" in result.fix


@pytest.mark.parametrize(
    ("head", "search", "expected"),
    [
        (b"", "", "no status within 0.4 s"),  # the status line itself trickles
        (b"HTTP/1.1 200 OK\r\n", "", "the rest of the headers not within 0.4 s"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", "ALL-OK", "the body did not come within 0.4 s"),
    ],
)
def test_a_trickling_primary_cannot_hold_the_probe_past_the_deadlines(head: bytes, search: str, expected: str) -> None:
    """One byte every 0.3 s never trips a 0.4 s timeout per read; the deadlines end it all the same."""
    rest = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"[len(head) :] + b"x" * 5000
    with Trickle(head, rest, every_s=0.3) as primary:
        protocol = "HTTP_STR_MATCH" if search else "HTTP"
        started = time.monotonic()
        result = check_probe(https_check(primary.port, protocol=protocol, search=search), no_resolver)
        took = time.monotonic() - started

    assert result.status is Status.FAIL
    assert expected in result.title
    assert took < 0.4 + 0.4 + 0.4 + 0.3  # connect + status + rest, and some slack


def test_a_tcp_check_waits_10_s_for_the_connection() -> None:
    with SaturatedListener() as listener:
        result = check_probe({"Type": "TCP", "IPAddress": "127.0.0.1", "Port": listener.port}, no_resolver)

    assert result.title.endswith("no TCP connection within 0.6 s")  # TCP_CONNECT_TIMEOUT_S, not 0.4
    assert "accept TCP connections within 0.6 s" in result.fix


def test_the_probe_sends_route53s_user_agent(new_site: NewSite) -> None:
    new_site.text()

    (seen,) = new_site.primary.seen
    assert re.fullmatch(
        r"Amazon-Route53-Health-Check-Service \(ref [0-9a-f-]{36}; report http://amzn\.to/1vsZADi\)", seen.user_agent
    )


def test_a_reason_phrase_with_escape_codes_is_printed_without_them(tls_files: tuple[Path, Path]) -> None:
    with ProbeTarget(Answer(500, reason="Down\x1b[2J\x07 now"), tls=tls_files) as target:
        result = check_probe(https_check(target.port), no_resolver)

    assert "\x1b" not in result.title
    assert "\x07" not in result.title
    assert "answered 500 Down[2J now" in result.title


def test_the_curl_line_is_shell_quoted(tls_files: tuple[Path, Path]) -> None:
    config = {**https_check(0), "ResourcePath": "/it's here"}
    with ProbeTarget(Answer(500), tls=tls_files) as target:
        result = check_probe({**config, "Port": target.port}, no_resolver)

    command = next(line for line in result.detail if "curl " in line).split("\n", 1)[1]
    argv = shlex.split(command)
    assert argv[-1] == f"https://{DOMAIN}:{target.port}/it's here"
    assert argv[argv.index("-A") + 1].startswith("Amazon-Route53-Health-Check-Service (ref ")


@pytest.mark.parametrize(
    ("name", "region"),
    [
        ("my-alb-123.eu-west-1.elb.amazonaws.com", "eu-west-1"),
        ("dualstack.my-alb-123.ap-southeast-2.elb.amazonaws.com", "ap-southeast-2"),
        ("my-nlb-0123456789abcdef.elb.eu-central-1.amazonaws.com", "eu-central-1"),
        ("shop.example.com", "us-east-1"),
    ],
)
def test_a_balancers_region_comes_from_its_name_nlbs_too(name: str, region: str) -> None:
    assert balancer_region(name) == region


def denied(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, operation)


def test_a_denied_signal_alarm_check_names_the_alarm() -> None:
    class Denying:
        def describe_alarms(self, **_: Any) -> Any:
            raise denied("DescribeAlarms")

    result = signal_alarm_result(Denying(), "shop-5xx")

    assert result.check == "signal-alarm:shop-5xx"
    assert result.status is Status.ERROR
    assert result.title == "could not check alarm shop-5xx: AWS error AccessDenied: not allowed"


def test_alarm_names_in_fixes_are_shell_quoted(new_site: NewSite) -> None:
    _, checks = new_site.json("--signal-alarm", "shop nope;x")

    fix = checks["signal-alarm:shop nope;x"]["fix"]
    assert "--alarm-name-prefix 'shop nope;x'" in fix


def test_json_errors_are_a_json_object_on_stdout(run: Any, aws: str) -> None:
    code, out, err = run("preflight", "--format", "json", "--stack", "no-such-hub")
    assert code == 2
    document = json.loads(out)
    assert document["exit_code"] == 2
    assert document["sites"] == []
    assert document["error"].startswith("no stack no-such-hub here")
    assert err.startswith("detour preflight: no stack no-such-hub here")  # stderr says it too

    code, out, err = run("preflight", "--format", "json", "--domain", DOMAIN)
    assert code == 2
    document = json.loads(out)
    assert document["exit_code"] == 2
    assert "a site not yet added needs" in document["error"]


def test_a_bad_resolver_is_a_usage_error(new_site: NewSite) -> None:
    code, out, err = new_site.text("--resolver", "127.0.0.1:notaport")

    assert code == 2
    assert "--resolver '127.0.0.1:notaport': give HOST or HOST:PORT" in err
    assert out == ""


def test_a_dns_timeout_is_an_error_not_does_not_resolve(new_site: NewSite) -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))  # takes queries, answers none
    try:
        code, checks = new_site.json(
            "--resolver",
            f"127.0.0.1:{silent.getsockname()[1]}",
            primary_kind="LoadBalancer",
            primary_target="shop-1.us-east-1.elb.amazonaws.com",
            primary_hosted_zone_id="Z35SXDOTRQ7X7K",
        )
    finally:
        silent.close()

    assert checks["probe"]["status"] == "error"
    assert "could not be resolved from here" in checks["probe"]["title"]
    assert code == 2


def test_the_rules_are_filtered_by_name_not_by_text(monkeypatch: pytest.MonkeyPatch) -> None:
    template = json.loads(json.dumps(settings.site_template()))
    rule = template["Rules"]["LoadBalancerPrimaryNeedsItsZone"]["Assertions"][0]
    rule["AssertDescription"] = "a us-east-1 balancer needs its zone id"
    monkeypatch.setattr(settings, "site_template", lambda: template)
    parameters = {**settings.defaults(), "PrimaryKind": "LoadBalancer", "PrimaryHostedZoneId": ""}

    assert settings.failed_rules(parameters) == ["a us-east-1 balancer needs its zone id"]


def cloudfront_stub(conflicts: list[dict[str, str]] | Exception) -> Any:
    class Stub:
        def list_distributions(self, **_: Any) -> Any:
            return {"DistributionList": {"Items": [], "IsTruncated": False}}

        def list_conflicting_aliases(self, **kwargs: Any) -> Any:
            assert kwargs == {"DistributionId": "E1OWNDIST0001", "Alias": DOMAIN}
            if isinstance(conflicts, Exception):
                raise conflicts
            return {"ConflictingAliasesList": {"Items": conflicts}}

    return Stub()


def deployed_site() -> SiteSettings:
    parameters = {**settings.defaults(), "DomainName": DOMAIN, "PrimaryTarget": "203.0.113.9"}
    return SiteSettings(parameters, site_stack="detour-site-www", distribution_id="E1OWNDIST0001")


def test_a_deployed_site_whose_name_another_account_holds_fails() -> None:
    other = {"Alias": DOMAIN, "DistributionId": "*******XYZ99", "AccountId": "******654321"}
    own = {"Alias": DOMAIN, "DistributionId": "*******ST0001", "AccountId": "******123456"}

    result = check_cloudfront(cloudfront_stub([own, other]), deployed_site())

    assert result.status is Status.FAIL
    assert "another account's distribution too: *******XYZ99 (account ******654321)" in result.title


def test_a_deployed_site_held_only_by_its_own_distribution_passes() -> None:
    own = {"Alias": DOMAIN, "DistributionId": "*******ST0001", "AccountId": "******123456"}

    result = check_cloudfront(cloudfront_stub([own]), deployed_site())

    assert result.status is Status.PASS
    assert "no other account's distribution holds it either" in result.title


def test_list_conflicting_aliases_refused_is_a_warning() -> None:
    result = check_cloudfront(cloudfront_stub(denied("ListConflictingAliases")), deployed_site())

    assert result.status is Status.WARN
    assert "(ListConflictingAliases: AccessDenied)" in result.title
    assert "aws cloudfront list-conflicting-aliases --distribution-id E1OWNDIST0001" in result.fix


def test_a_deployed_sites_missing_failover_record_fails(
    run: Any, monkeypatch: pytest.MonkeyPatch, certificate_arn: str, incidents_table: Any
) -> None:
    made = like_site_yaml(world_module.stack_template, certificate_arn)

    def without_maintenance(*args: Any, **kwargs: Any) -> dict[str, Any]:
        template = made(*args, **kwargs)
        del template["Resources"]["SecondaryRecordA"]  # a stack whose maintenance record is gone
        return template

    monkeypatch.setattr(world_module, "stack_template", without_maintenance)
    build_world(incidents_table.name, primary_target="127.0.0.1")

    code, out, _ = run("preflight", "--site", DOMAIN, "--format", "json")

    checks = by_check(json.loads(out))
    assert code == 1
    assert "failover pair is incomplete" in checks["hosted-zone"]["title"]
    assert "no detour-site-www-maintenance" in checks["hosted-zone"]["title"]
    assert checks["hosted-zone"]["fix"] == "deploy the site stack again (sam deploy --config-file sites/<name>.toml)"


def test_a_deployed_health_check_changed_by_hand_fails(run: Any, deployed: Deployed) -> None:
    boto3.client("route53").update_health_check(HealthCheckId=deployed.www.check_id, Port=8443, ResourcePath="/x")

    code, out, _ = run("preflight", "--site", DOMAIN, "--format", "json")

    check = by_check(json.loads(out))["health-check"]
    assert code == 1
    assert check["status"] == "fail"
    assert f"Port is 8443, not {deployed.primary.port}" in check["title"]
    assert "ResourcePath is /x, not /health" in check["title"]


def test_a_deployed_health_check_gone_fails_and_the_note_is_in_json(run: Any, deployed: Deployed) -> None:
    boto3.client("route53").delete_health_check(HealthCheckId=deployed.www.check_id)

    code, out, _ = run("preflight", "--site", DOMAIN, "--format", "json")

    document = json.loads(out)
    check = by_check(document)["health-check"]
    assert code == 1
    assert check["status"] == "fail"
    assert check["title"].endswith("is gone: the site cannot fail over")
    assert "could not be read (NoSuchHealthCheck)" in document["sites"][0]["notes"][0]


def test_a_deployed_health_check_denied_is_an_error(
    run: Any, deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = boto3.session.Session.client

    def client(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        made = real(self, name, *args, **kwargs)
        if name == "route53":

            def refuse(**_: Any) -> Any:
                raise denied("GetHealthCheck")

            made.get_health_check = refuse
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)

    code, out, _ = run("preflight", "--site", DOMAIN, "--format", "json")

    check = by_check(json.loads(out))["health-check"]
    assert code == 2
    assert check["status"] == "error"
    assert "AccessDenied" in check["title"]


def test_a_botocore_error_on_one_site_is_that_sites_error(
    run: Any, deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import EndpointConnectionError  # noqa: PLC0415

    real = settings.deployed_settings

    def flaky(session: Any, view: Any, alarms: tuple[str, ...]) -> SiteSettings:
        if view.domain == OTHER_DOMAIN:
            raise EndpointConnectionError(endpoint_url="https://route53.example")
        return real(session, view, alarms)

    monkeypatch.setattr("detour_cli.preflight.deployed_settings", flaky)

    code, out, _ = run("preflight", "--format", "json")

    document = json.loads(out)
    sites = {site["domain"]: site for site in document["sites"]}
    assert code == 2
    assert "Could not connect to the endpoint URL" in sites[OTHER_DOMAIN]["error"]
    assert sites[DOMAIN]["checks"]  # the other site was still checked
