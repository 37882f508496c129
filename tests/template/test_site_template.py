"""sites/site.yaml: one site's stack. Its parameters and rules, its failover records, its
distribution in front of its prefix of the hub's bucket, its registration and its alarm, and how it
fits the hub (what it imports, the alarm names the hub's policies admit)."""

from __future__ import annotations

import re
import tomllib

import pytest

from detour_cli.template import Resolver, Unresolved, load
from tests.support.template import (
    HUB_EXPORTS,
    ROOT,
    SITE_TEMPLATE,
    Evaluator,
    arn_like,
    import_names,
    site_parameters,
    site_source,
    source,
)

SITE_STACK = "detour-site-shop"
ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"


def evaluate(region: str = "us-east-1", **parameters: str) -> Resolver:
    return Evaluator(site_source(), site_parameters(**parameters), region, stack_name=SITE_STACK, imports=HUB_EXPORTS)


def deployed(**parameters: str) -> Resolver:
    """The site as deployed: its health check and distribution exist."""
    stack = evaluate(**parameters)
    stack.know("HealthCheck", "0a1b2c3d-hc")
    stack.know("Distribution", "E2SHOP", DomainName="d111111abcdef8.cloudfront.net")
    return stack


# ---------------------------------------------------------------- the template itself


def test_the_site_template_is_plain_cloudformation_read_as_it_is() -> None:
    template = load(SITE_TEMPLATE)
    assert "Transform" not in template  # no build, no SAM: cfn-lint and CloudFormation read it as it is
    assert not any(r["Type"].startswith("AWS::Serverless::") for r in template["Resources"].values())
    # nothing that needs CAPABILITY_IAM: sites/*.toml deploy without it
    assert not any(r["Type"].startswith("AWS::IAM::") for r in template["Resources"].values())


def test_every_parameter_is_described_and_grouped_once() -> None:
    template = site_source()
    assert all(p.get("Description") for p in template["Parameters"].values())
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]
    assert sorted(grouped) == sorted(template["Parameters"])
    (page,) = [g for g in groups if g["Label"]["default"] == "Maintenance page"]
    assert {"SiteName", "ContactUrl", "DefaultMessage", "RetryAfterSeconds"} <= set(page["Parameters"])


def test_the_site_parameters_left_the_hub() -> None:
    site = set(site_source()["Parameters"])
    assert {"HubStackName", "DomainName", "SlackChannel", "SlackMention", "RetryAfterSeconds"} <= site
    assert not site & set(source()["Parameters"])


@pytest.mark.parametrize(
    ("parameter", "good", "bad"),
    [
        (
            "DomainName",
            ["www.example.com", "status.shop.example.co.uk"],
            ["WWW.example.com", "example", "x.com."],
        ),
        ("HostedZoneId", ["Z0123456789ABCDEFGHIJ"], ["0123", "z012"]),
        ("PrimaryTarget", ["203.0.113.10", "my-alb-1.us-east-1.elb.amazonaws.com"], ["http://x.com", "a b"]),
        ("HealthCheckPath", ["/", "/healthz?full=1"], ["healthz", "/a b"]),
        (
            "HealthCheckRegions",
            ["us-east-1,eu-west-1,ap-southeast-1"],
            ["us-east-1,eu-west-1", "us-east-1, eu-west-1,sa-east-1", "us-east-2,eu-west-1,sa-east-1"],
        ),
        (
            "CertificateArn",
            ["arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"],
            ["arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"],
        ),
        ("SlackChannel", ["", "C0123ABCD", "G0PRIVATE1"], ["#shop", "C012", "U0123ABCD", "C0123ABCD,C0456EFGH"]),
        ("SlackMention", ["", "here", "channel", "S0123ABCD"], ["@here", "<!channel>", "everyone"]),
        ("HubStackName", ["detour", "detour-staging", "Detour2"], ["", "detour/shop", "2detour", "detour_hub"]),
    ],
)
def test_parameter_patterns_accept_and_reject(parameter: str, good: list[str], bad: list[str]) -> None:
    pattern = re.compile(site_source()["Parameters"][parameter]["AllowedPattern"])
    assert all(pattern.fullmatch(value) for value in good)
    assert not any(pattern.fullmatch(value) for value in bad)


def test_the_defaults_with_a_load_balancer_break_no_rule() -> None:
    assert evaluate().failed_rules() == []
    assert site_source()["Parameters"]["HubStackName"]["Default"] == "detour"


@pytest.mark.parametrize(
    ("parameters", "region", "message"),
    [
        ({}, "eu-west-1", "Detour must be deployed in us-east-1"),
        ({"PrimaryHostedZoneId": ""}, "us-east-1", "PrimaryKind LoadBalancer needs PrimaryHostedZoneId"),
        ({"HealthCheckProtocol": "HTTPS_STR_MATCH"}, "us-east-1", "need HealthCheckSearchString"),
        (
            {"PrimaryKind": "IPv4", "PrimaryTarget": "203.0.113.10", "DualStack": "true"},
            "us-east-1",
            "DualStack needs",
        ),
    ],
)
def test_rules_refuse_impossible_deployments_with_a_reason(
    parameters: dict[str, str], region: str, message: str
) -> None:
    failures = evaluate(region, **parameters).failed_rules()
    assert len(failures) == 1
    assert message in failures[0]


# ---------------------------------------------------------------- health check and records


def test_a_load_balancer_primary_is_an_alias_that_evaluates_target_health() -> None:
    stack = evaluate()
    record = stack.resource("PrimaryRecordA")
    assert record is not None
    assert record["Failover"] == "PRIMARY"
    assert record["HealthCheckId"] == {"Ref": "HealthCheck"}
    assert record["AliasTarget"] == {
        "DNSName": "my-alb-1234567890.us-east-1.elb.amazonaws.com",
        "HostedZoneId": "Z35SXDOTRQ7X7K",
        "EvaluateTargetHealth": True,
    }
    assert "TTL" not in record
    assert "ResourceRecords" not in record
    check = stack.resource("HealthCheck")["HealthCheckConfig"]  # type: ignore[index]
    assert check["FullyQualifiedDomainName"] == "my-alb-1234567890.us-east-1.elb.amazonaws.com"
    assert "IPAddress" not in check


def test_an_ip_primary_is_an_a_record_with_ttl_60_and_a_probe_of_the_ip() -> None:
    stack = evaluate(PrimaryKind="IPv4", PrimaryTarget="203.0.113.10", PrimaryHostedZoneId="")
    record = stack.resource("PrimaryRecordA")
    assert record is not None
    assert (record["ResourceRecords"], record["TTL"]) == (["203.0.113.10"], "60")
    assert "AliasTarget" not in record
    check = stack.resource("HealthCheck")["HealthCheckConfig"]  # type: ignore[index]
    # probes the IP; the domain only rides along as Host header and SNI
    assert (check["IPAddress"], check["FullyQualifiedDomainName"]) == ("203.0.113.10", "www.example.com")
    assert stack.failed_rules() == []


def test_the_secondary_is_this_sites_distribution_without_a_health_check() -> None:
    record = deployed().resource("SecondaryRecordA")
    assert record is not None
    assert record["Failover"] == "SECONDARY"
    assert "HealthCheckId" not in record
    assert record["AliasTarget"] == {
        "DNSName": "d111111abcdef8.cloudfront.net",
        "HostedZoneId": "Z2FDTNDATAQYW2",
        "EvaluateTargetHealth": False,
    }


def test_set_identifiers_are_the_site_stacks_own() -> None:
    """Two sites may share a zone: their records must never claim each other's set identifiers."""
    stack = evaluate(DualStack="true")
    identifiers = [
        stack.resource(name)["SetIdentifier"]  # type: ignore[index]
        for name in ("PrimaryRecordA", "SecondaryRecordA", "PrimaryRecordAAAA", "SecondaryRecordAAAA")
    ]
    assert len(set(identifiers)) == 4
    assert all(i.startswith(f"{SITE_STACK}-") for i in identifiers)


def test_aaaa_records_exist_only_for_a_dual_stack_balancer() -> None:
    assert evaluate().resource("PrimaryRecordAAAA") is None
    assert evaluate().resource("SecondaryRecordAAAA") is None
    dual = evaluate(DualStack="true")
    primary, secondary = dual.resource("PrimaryRecordAAAA"), dual.resource("SecondaryRecordAAAA")
    assert primary is not None
    assert secondary is not None
    assert (primary["Type"], primary["Failover"], primary["AliasTarget"]["EvaluateTargetHealth"]) == (
        "AAAA",
        "PRIMARY",
        True,
    )
    assert primary["HealthCheckId"] == {"Ref": "HealthCheck"}
    assert (secondary["Type"], secondary["Failover"]) == ("AAAA", "SECONDARY")


@pytest.mark.parametrize(
    ("protocol", "path", "search", "sni"),
    [
        ("HTTPS", "/", None, True),
        ("HTTP", "/", None, None),
        ("HTTPS_STR_MATCH", "/", "ok", True),
        ("HTTP_STR_MATCH", "/", "ok", None),
        ("TCP", None, None, None),
    ],
)
def test_health_check_follows_the_protocol(
    protocol: str, path: str | None, search: str | None, sni: bool | None
) -> None:
    config = evaluate(HealthCheckProtocol=protocol, HealthCheckSearchString="ok").resource("HealthCheck")[
        "HealthCheckConfig"
    ]  # type: ignore[index]
    assert config["Type"] == protocol
    assert config.get("ResourcePath") == path
    assert config.get("SearchString") == search
    assert config.get("EnableSNI") == sni
    assert (config["RequestInterval"], config["FailureThreshold"]) == ("10", "3")
    assert config["Regions"] == ["us-east-1", "eu-west-1", "ap-southeast-1"]


# ---------------------------------------------------------------- the distribution


def test_the_distribution_serves_the_domain_over_tls_from_its_prefix_of_the_hubs_bucket() -> None:
    stack = deployed()
    distribution = stack.resource("Distribution")
    assert distribution is not None
    config = distribution["DistributionConfig"]
    assert config["Aliases"] == ["www.example.com"]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert config["IPV6Enabled"] is True
    (origin,) = config["Origins"]
    assert origin["DomainName"] == HUB_EXPORTS["detour-PageBucketDomainName"]  # REST endpoint, not website
    # the site's page is sites/<health check id>/ (the registry's page_prefix): no other site's
    assert origin["OriginPath"] == "/sites/0a1b2c3d-hc"
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["OriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert all(b["ViewerProtocolPolicy"] == "redirect-to-https" for b in behaviors)
    assert all(b["ResponseHeadersPolicyId"] == HUB_EXPORTS["detour-PageHeadersPolicyId"] for b in behaviors)
    status = next(b for b in config["CacheBehaviors"] if b["PathPattern"] == "/status.json")
    assert status["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    errors = {e["ErrorCode"]: e for e in config["CustomErrorResponses"]}
    assert {code: (e["ResponseCode"], e["ResponsePagePath"]) for code, e in errors.items()} == {
        403: (503, "/index.html"),
        404: (503, "/index.html"),
    }
    assert {"Key": "detour:hub", "Value": "detour"} in distribution["Tags"]


def test_each_site_has_its_own_origin_access_control() -> None:
    """OAC names are unique in an account: named after the site stack, two sites never collide."""
    control = evaluate().resource("OriginAccessControl")["OriginAccessControlConfig"]  # type: ignore[index]
    assert control["Name"] == f"{SITE_STACK}-page"
    assert (control["OriginAccessControlOriginType"], control["SigningBehavior"]) == ("s3", "always")


def test_both_cache_behaviours_run_the_hubs_edge_functions() -> None:
    config = deployed().resource("Distribution")["DistributionConfig"]  # type: ignore[index]
    expected = [
        {"EventType": "viewer-request", "FunctionARN": HUB_EXPORTS["detour-PageRequestFunctionArn"]},
        {"EventType": "viewer-response", "FunctionARN": HUB_EXPORTS["detour-PageResponseFunctionArn"]},
    ]
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert len(behaviours) == 2
    assert all(b["FunctionAssociations"] == expected for b in behaviours)


# ---------------------------------------------------------------- registration and alarm


def test_the_site_resource_registers_everything_the_functions_need() -> None:
    resource = site_source()["Resources"]["Site"]
    assert resource["Type"] == "Custom::DetourSite"
    props = deployed(SiteName="Example Shop", SlackChannel="C0SHOP001", SlackMention="here").resource("Site")
    assert props == {
        "ServiceToken": HUB_EXPORTS["detour-SiteServiceToken"],
        "ServiceTimeout": 600,
        "EndpointCheckId": "0a1b2c3d-hc",
        "FailoverCheckId": "0a1b2c3d-hc",  # no signals: the failover records watch the endpoint check itself
        "Domain": "www.example.com",
        "SiteName": "Example Shop",
        "ContactUrl": "",
        "DefaultMessage": site_source()["Parameters"]["DefaultMessage"]["Default"],
        "RetryAfterSeconds": "120",
        "SlackChannel": "C0SHOP001",
        "SlackMention": "here",
        "DistributionId": "E2SHOP",
        "DistributionDomainName": "d111111abcdef8.cloudfront.net",
        "AlarmName": f"detour/{SITE_STACK}/primary-health",
        "StackName": SITE_STACK,
        "Signals": [],
        "SignalsToFailOver": "1",
        "SignalInsufficientData": "LastKnownStatus",
        "SiteTemplateVersion": "2",
    }
    assert deployed().resource("Site")["SiteName"] == "www.example.com"  # type: ignore[index]  # no SiteName: the domain


def test_the_registered_alarm_name_is_the_alarms_own() -> None:
    """The functions refuse a transition from any alarm but the site's registered one."""
    stack = deployed()
    alarm = stack.resource("HealthAlarm")
    assert alarm is not None
    assert stack.resource("Site")["AlarmName"] == alarm["AlarmName"]  # type: ignore[index]


def test_the_site_template_version_is_the_one_the_hub_expects() -> None:
    site = site_source()["Resources"]["Site"]["Properties"]["SiteTemplateVersion"]
    assert site == source()["Outputs"]["SiteTemplateVersion"]["Value"]


def test_the_alarm_is_registered_first_and_reports_every_state_to_the_hubs_topic() -> None:
    resource = site_source()["Resources"]["HealthAlarm"]
    # created after the site is registered, deleted before it is unregistered: no transition is refused
    assert resource["DependsOn"] in ("Site", ["Site"])
    alarm = deployed().resource("HealthAlarm")
    assert alarm is not None
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Route53", "HealthCheckStatus")
    assert alarm["Dimensions"] == [{"Name": "HealthCheckId", "Value": "0a1b2c3d-hc"}]
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Minimum",
        60,
        1,
        "LessThanThreshold",
    )
    assert alarm["TreatMissingData"] == "missing"
    topic = [HUB_EXPORTS["detour-AlarmTopicArn"]]
    assert alarm["AlarmActions"] == alarm["OKActions"] == alarm["InsufficientDataActions"] == topic
    assert alarm["AlarmName"] == f"detour/{SITE_STACK}/primary-health"


def hub_alarm_pattern(hub: str) -> str:
    """What the hub named `hub` admits to its topic (and its key), resolved."""
    statements = source()["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    resolver = Evaluator(source(), {}, stack_name=hub)
    pattern: str = resolver.value(allow["Condition"]["ArnLike"]["aws:SourceArn"])
    key = source()["Resources"]["TopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    key_patterns = [
        resolver.value(s["Condition"]["ArnLike"]["aws:SourceArn"]) for s in key if "ArnLike" in s.get("Condition", {})
    ]
    assert key_patterns == [pattern]
    return pattern


def site_alarm_arn(hub: str, site_stack: str) -> str:
    stack = Evaluator(site_source(), site_parameters(HubStackName=hub), stack_name=site_stack)
    return ALARM_ARN.format(name=stack.resource("HealthAlarm")["AlarmName"])  # type: ignore[index]


def test_the_hubs_topic_and_key_admit_its_sites_alarms_and_no_other_hubs() -> None:
    assert arn_like(hub_alarm_pattern("detour"), site_alarm_arn("detour", "detour-site-shop"))
    assert arn_like(hub_alarm_pattern("detour-staging"), site_alarm_arn("detour-staging", "detour-site-shop"))
    # a hub named detour-staging (today's `alarm:detour-*` would have admitted it) is no site of `detour`
    assert not arn_like(hub_alarm_pattern("detour"), site_alarm_arn("detour-staging", "detour-site-shop"))
    assert not arn_like(hub_alarm_pattern("detour-staging"), site_alarm_arn("detour", "detour-site-shop"))
    # nor is a site stack that happens to be named after the hub
    assert not arn_like(hub_alarm_pattern("detour"), ALARM_ARN.format(name="detour-primary-health"))


def test_the_site_imports_only_what_the_hub_exports() -> None:
    stack = evaluate(HubStackName="detour")
    imported = {stack.value(name) for name in import_names(site_source())}
    exported = {
        Evaluator(source(), {}, stack_name="detour").value(output["Export"]["Name"])
        for output in source()["Outputs"].values()
        if "Export" in output
    }
    assert imported == exported  # every export is used by a site, and nothing else is imported
    # and from the hub the site names, not a fixed one
    assert {
        Evaluator(site_source(), site_parameters(HubStackName="hub-b")).value(n) for n in import_names(site_source())
    } == {name.replace("detour-", "hub-b-", 1) for name in exported}


def test_a_site_cannot_be_resolved_without_its_hub() -> None:
    stack = Resolver(site_source(), site_parameters(), strict=True, imports={})
    with pytest.raises(Unresolved, match="detour-AlarmTopicArn"):
        stack.value(site_source()["Resources"]["HealthAlarm"]["Properties"]["AlarmActions"])


def test_outputs_name_what_an_operator_and_the_cli_look_up_and_export_nothing() -> None:
    outputs = site_source()["Outputs"]
    assert set(outputs) == {
        "HealthCheckId",
        "FailoverCheckId",
        "HealthAlarmName",
        "DistributionId",
        "DistributionDomainName",
        "SiteName",
    }
    assert not any("Export" in output for output in outputs.values())  # a site is never a dependency


# ---------------------------------------------------------------- sites/example.toml


def test_the_example_site_config_deploys_the_site_template_with_valid_parameters() -> None:
    config = tomllib.loads((ROOT / "sites" / "example.toml").read_text())
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["template_file"] == "sites/site.yaml"
    assert deploy["stack_name"].startswith("detour-site-")
    assert (deploy["region"], deploy["confirm_changeset"]) == ("us-east-1", True)
    parameters = site_source()["Parameters"]
    given = dict(item.split("=", 1) for item in deploy["parameter_overrides"])
    given = {name: value.strip('"') for name, value in given.items()}
    assert set(given) <= set(parameters)
    assert {name for name, p in parameters.items() if "Default" not in p} <= set(given)  # every required one
    for name, value in given.items():
        if "AllowedPattern" in parameters[name]:
            assert re.fullmatch(parameters[name]["AllowedPattern"], value), name
    assert Evaluator(site_source(), site_parameters(**given)).failed_rules() == []
